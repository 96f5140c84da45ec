import { describe, expect, it } from 'vitest';
import { ArgsError, USAGE, parseSimulatorArgs } from '../../src/simulatorArgs.ts';

const URL = ['--webhook-url', 'http://127.0.0.1:8080/webhook'];

describe('parseSimulatorArgs: chaos flags', () => {
  it('chaos is off by default', () => {
    expect(parseSimulatorArgs(URL)).toMatchObject({ chaos: false, chaosSeed: undefined, chaosRate: undefined });
  });

  it('--chaos turns it on; --chaos-seed and --chaos-rate imply it', () => {
    expect(parseSimulatorArgs([...URL, '--chaos'])).toMatchObject({ chaos: true, chaosSeed: undefined, chaosRate: undefined });
    expect(parseSimulatorArgs([...URL, '--chaos-seed', '42'])).toMatchObject({ chaos: true, chaosSeed: 42 });
    expect(parseSimulatorArgs([...URL, '--chaos-rate', '2.5'])).toMatchObject({ chaos: true, chaosRate: 2.5 });
  });

  it.each([
    [['--chaos-rate', '0'], /--chaos-rate/],
    [['--chaos-rate', 'often'], /--chaos-rate/],
    [['--chaos-seed', '-1'], /--chaos-seed/],
    [['--chaos-seed', '4294967296'], /--chaos-seed/],
  ])('rejects %j', (flags, message) => {
    expect(() => parseSimulatorArgs([...URL, ...flags])).toThrow(ArgsError);
    expect(() => parseSimulatorArgs([...URL, ...flags])).toThrow(message);
  });

  it('--help documents the chaos flags', () => {
    for (const flag of ['--chaos ', '--chaos-seed N', '--chaos-rate N']) expect(USAGE).toContain(flag);
  });
});
