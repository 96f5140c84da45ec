import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isIdrAccessUnit, parameterSets, splitAccessUnits } from './h264AccessUnits.ts';

/**
 * The committed picture fixtures (regenerate with `scripts/make-fixtures.sh`). Loaded once
 * per process and shared by every stream; buffers are treated as read-only.
 */
export interface MediaFixtures {
  /** 160x90 25 fps H.264 clip split into access units; `idr[i]` marks where decoding can start. */
  readonly h264: { readonly units: readonly Buffer[]; readonly idr: readonly boolean[] };
  readonly cameraJpeg: readonly Buffer[];
  readonly cameraPng: readonly Buffer[];
  readonly shareJpeg: readonly Buffer[];
  readonly sharePng: readonly Buffer[];
  /**
   * The sync-mark pictures (README.md, "Sync marks"; regenerate with
   * `scripts/make-sync-fixtures.sh`): flat white, same sizes as the normal ones. `h264` is one
   * IDR access unit whose SPS and PPS equal the camera clip's.
   */
  readonly sync: {
    readonly h264: Buffer;
    readonly cameraJpeg: Buffer;
    readonly cameraPng: Buffer;
    readonly shareJpeg: Buffer;
    readonly sharePng: Buffer;
  };
}

// The package runs from source (type stripping); its fixtures sit beside src/.
const CANDIDATE_DIRS = [new URL('../fixtures/', import.meta.url)];

let cached: MediaFixtures | undefined;

function fixtureDir(): URL {
  for (const dir of CANDIDATE_DIRS) {
    if (existsSync(fileURLToPath(new URL('camera.h264', dir)))) return dir;
  }
  throw new Error(`simulator fixtures not found; looked in ${CANDIDATE_DIRS.map((dir) => fileURLToPath(dir)).join(', ')}`);
}

/** Loads (once) and returns the fixtures. Throws when the fixture directory is missing. */
export function mediaFixtures(): MediaFixtures {
  if (cached !== undefined) return cached;
  const dir = fixtureDir();
  const read = (name: string): Buffer => readFileSync(new URL(name, dir));
  const units = splitAccessUnits(read('camera.h264'));
  if (units.length === 0 || !isIdrAccessUnit(units[0] as Buffer)) {
    throw new Error('simulator fixture camera.h264 must start with an IDR access unit');
  }
  const syncUnits = splitAccessUnits(read('sync.h264'));
  const syncUnit = syncUnits[0];
  if (syncUnits.length !== 1 || syncUnit === undefined || !isIdrAccessUnit(syncUnit)) {
    throw new Error('simulator fixture sync.h264 must be exactly one IDR access unit');
  }
  if (!parameterSets(syncUnit).equals(parameterSets(units[0] as Buffer))) {
    throw new Error('simulator fixture sync.h264 must carry the SPS and PPS of camera.h264 (regenerate both with the same settings)');
  }
  cached = {
    h264: { units, idr: units.map((unit) => isIdrAccessUnit(unit)) },
    cameraJpeg: ['camera-1.jpg', 'camera-2.jpg', 'camera-3.jpg', 'camera-4.jpg'].map(read),
    cameraPng: ['camera-1.png', 'camera-2.png'].map(read),
    shareJpeg: ['share-1.jpg', 'share-2.jpg'].map(read),
    sharePng: ['share-1.png'].map(read),
    sync: {
      h264: syncUnit,
      cameraJpeg: read('sync-camera.jpg'),
      cameraPng: read('sync-camera.png'),
      shareJpeg: read('sync-share.jpg'),
      sharePng: read('sync-share.png'),
    },
  };
  return cached;
}
