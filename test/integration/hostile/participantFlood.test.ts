import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { urlValidationBody } from 'rtms-simulator';
import { startRig, type Rig } from '../connectorHarness.ts';
import { HostileRtmsServer } from './hostileRtmsServer.ts';
import { startBystander, startHostileStream } from './hostileRig.ts';

/**
 * A server that announces 500,000 participants (5 EVENT_UPDATEs of 100,000 joins). The roster
 * keeps RTMS_MAX_PARTICIPANTS (10,000, the default) and counts the rest; what reaches the main
 * thread and GET /streams is counts and a page of 100. Meanwhile webhooks are answered within
 * Zoom's 3 s (the simulator's webhook sender fails past it), a new stream starts, and a
 * bystander keeps writing.
 */

const PARTICIPANTS = 500_000;
const PER_MESSAGE = 100_000;
/** Stated bound for the whole connector process (main thread + 2 workers) after the flood. */
const RSS_LIMIT_MB = 450;

let rig: Rig;
beforeAll(async () => {
  rig = await startRig({ RTMS_MEDIA: 'audio,transcript' });
});
afterAll(async () => {
  await rig?.close();
});

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) / 1024;
}

describe('participant flood', () => {
  it('500,000 participants: roster bounded, counts and a page reach the main thread, webhooks still answered', { timeout: 120_000 }, async () => {
    const pid = rig.connector.pid!;
    const bystander = await startBystander(rig);
    const rssBefore = await rssMb(pid);
    let announced: (() => void) | undefined;
    const announcedAll = new Promise<void>((resolve) => (announced = resolve));
    const server = await HostileRtmsServer.start({
      onMediaReady: (_media, signaling) => {
        for (let from = 0; from < PARTICIPANTS; from += PER_MESSAGE) {
          const participants = Array.from({ length: PER_MESSAGE }, (_, i) => ({ user_id: 1_000_000 + from + i, user_name: `Guest ${from + i}` }));
          signaling.send(JSON.stringify({ msg_type: 6, event: { event_type: 3, timestamp: Date.now(), participants } }));
        }
        announced?.();
      },
    });
    try {
      const id = await startHostileStream(rig, server.url(), 'roster');
      await announcedAll;
      // While the connector takes them in: webhooks are answered (the sender's deadline is Zoom's 3 s) ...
      const answerMs: number[] = [];
      const second = rig.simulator.startStream({ product: 'meeting', durationMs: 60_000 });
      for (let i = 0; i < 10; i += 1) {
        const started = Date.now();
        const response = await rig.simulator.sendWebhook(urlValidationBody(`token-${i}`, Date.now()));
        expect(response.status).toBe(200);
        answerMs.push(Date.now() - started);
      }
      await (await second).whenReady();

      const snapshot = await rig.connector.waitForStream(
        id,
        (stream) => (stream['participants'] as { notKept: number }).notKept === PARTICIPANTS - 10_000,
        60_000,
      );
      const participants = snapshot['participants'] as { joined: number; present: number; notKept: number; list: unknown[] };
      expect({ joined: participants.joined, present: participants.present, listed: participants.list.length }).toEqual({
        joined: 10_000,
        present: 10_000,
        listed: 100,
      });
      const one = await fetch(`${rig.connector.baseUrl}/streams/${id}`, { headers: { authorization: 'Bearer admin-token-for-tests' } });
      const oneBytes = (await one.arrayBuffer()).byteLength;
      const all = await fetch(`${rig.connector.baseUrl}/streams`, { headers: { authorization: 'Bearer admin-token-for-tests' } });
      const allBytes = (await all.arrayBuffer()).byteLength;
      expect(oneBytes).toBeLessThan(64 * 1024);
      expect(allBytes).toBeLessThan(3 * 64 * 1024);
      const metrics = await (await fetch(`${rig.connector.baseUrl}/metrics`)).text();
      expect(metrics).toContain(`rtms_stream_limit_hits_total{limit="participants"} ${PARTICIPANTS - 10_000}`);
      const rssAfter = await rssMb(pid);
      expect(rssAfter).toBeLessThan(RSS_LIMIT_MB);
      await bystander.check();
      await bystander.finish();
      process.stdout.write(
        `participants: RSS ${rssBefore.toFixed(0)} -> ${rssAfter.toFixed(0)} MB; webhook answers max ${Math.max(...answerMs)} ms; GET /streams/{id} ${oneBytes} B, GET /streams ${allBytes} B\n`,
      );
    } finally {
      await server.close();
    }
  });
});
