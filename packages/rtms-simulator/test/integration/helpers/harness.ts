import pino from 'pino';
import { type Simulator, type SimulatorOptions, type SimulatedStream, startSimulator } from '../../../src/simulator.ts';
import { type JoinOptions, type Session, joinStream } from './rawRtmsClient.ts';
import { WebhookReceiver } from './webhookReceiver.ts';

export const CREDENTIALS = { clientId: 'test-client-id', clientSecret: 'test-client-secret', webhookSecretToken: 'test-webhook-token' } as const;

export interface Harness {
  readonly receiver: WebhookReceiver;
  readonly sim: Simulator;
  /** Joins `stream` with the raw test client (defaults: one `all` socket). */
  join(stream: SimulatedStream, options?: Partial<JoinOptions>): Promise<Session>;
  close(): Promise<void>;
}

/** A webhook receiver and a simulator pointed at it; everything on 127.0.0.1, port 0. */
export async function harness(options: Partial<SimulatorOptions> = {}): Promise<Harness> {
  const receiver = await WebhookReceiver.start(CREDENTIALS.webhookSecretToken);
  const sim = await startSimulator({
    credentials: CREDENTIALS,
    webhookUrl: receiver.url,
    seed: 1234,
    logger: pino({ level: process.env['SIM_TEST_LOG'] ?? 'silent' }),
    ...options,
  });
  const sessions: Session[] = [];
  return {
    receiver,
    sim,
    async join(stream, joinOptions = {}) {
      const session = await joinStream({
        signalingUrl: stream.signalingUrl,
        clientId: CREDENTIALS.clientId,
        clientSecret: CREDENTIALS.clientSecret,
        rtmsStreamId: stream.rtmsStreamId,
        entityId: stream.entityId,
        entityKey: stream.entityIdKey,
        ...joinOptions,
      });
      sessions.push(session);
      return session;
    },
    async close() {
      for (const session of sessions) {
        session.signaling.terminate();
        for (const socket of session.media) socket.terminate();
      }
      await sim.close();
      await receiver.close();
    },
  };
}

/** Asserts that a stream's audio timestamps advance by exactly `stepMs` with no gap or repeat. */
export function timestampGaps(timestamps: readonly number[], stepMs: number): number[] {
  const gaps: number[] = [];
  for (let i = 1; i < timestamps.length; i += 1) {
    const step = (timestamps[i] ?? 0) - (timestamps[i - 1] ?? 0);
    if (step !== stepMs) gaps.push(i);
  }
  return gaps;
}
