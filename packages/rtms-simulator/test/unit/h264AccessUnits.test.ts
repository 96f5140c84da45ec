import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { isIdrAccessUnit, nalUnitTypes, splitAccessUnits } from '../../src/h264AccessUnits.ts';
import { mediaFixtures } from '../../src/mediaFixtures.ts';

const run = promisify(execFile);
const fixturePath = new URL('../../fixtures/camera.h264', import.meta.url);

describe('splitAccessUnits', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('splits the committed clip into 50 access units that reassemble byte for byte', async () => {
    const clip = await readFile(fixturePath);
    const units = splitAccessUnits(clip);
    expect(units).toHaveLength(50);
    expect(Buffer.concat(units).equals(clip)).toBe(true);
    for (const unit of units) {
      // Every unit opens with an access unit delimiter and holds exactly one picture.
      expect(nalUnitTypes(unit)[0]).toBe(9);
      expect(nalUnitTypes(unit).filter((type) => type === 1 || type === 5)).toHaveLength(1);
    }
  });

  it('marks an IDR with SPS and PPS every 10 frames, starting with the first', async () => {
    const units = splitAccessUnits(await readFile(fixturePath));
    const idr = units.map((unit) => isIdrAccessUnit(unit));
    expect(idr.flatMap((flag, index) => (flag ? [index] : []))).toEqual([0, 10, 20, 30, 40]);
    for (const unit of units.filter((unit) => isIdrAccessUnit(unit))) {
      expect(nalUnitTypes(unit)).toEqual(expect.arrayContaining([7, 8, 5]));
    }
    expect(mediaFixtures().h264.idr).toEqual(idr);
  });

  it('splits on the first slice of a picture when there are no delimiters', () => {
    const sps = Buffer.from([0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e]);
    const pps = Buffer.from([0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80]);
    const idr = Buffer.from([0, 0, 1, 0x65, 0x88, 0x84]); // first_mb_in_slice = 0
    const secondSlice = Buffer.from([0, 0, 1, 0x65, 0x40, 0x84]); // first_mb_in_slice != 0: same picture
    const nonIdr = Buffer.from([0, 0, 1, 0x41, 0x9a, 0x02]);
    const units = splitAccessUnits(Buffer.concat([sps, pps, idr, secondSlice, nonIdr, sps, pps, idr]));
    expect(units.map((unit) => nalUnitTypes(unit))).toEqual([[7, 8, 5, 5], [1], [7, 8, 5]]);
  });

  it('produces access units that ffprobe decodes when concatenated', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-h264-'));
    dirs.push(dir);
    const { units } = mediaFixtures().h264;
    // Loop twice, as the simulator does; the second lap must still decode.
    const file = join(dir, 'looped.h264');
    await writeFile(file, Buffer.concat([...units, ...units]));
    const { stdout, stderr } = await run('ffprobe', [
      '-v',
      'error',
      '-count_frames',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=codec_name,width,height,nb_read_frames',
      '-of',
      'json',
      file,
    ]);
    expect(stderr).toBe('');
    const stream = (JSON.parse(stdout) as { streams: Array<Record<string, unknown>> }).streams[0];
    expect(stream).toMatchObject({ codec_name: 'h264', width: 160, height: 90, nb_read_frames: '100' });
  });
});
