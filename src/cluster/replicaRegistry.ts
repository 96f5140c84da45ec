import type { ClusterKeys } from './clusterKeys.ts';
import { LUA_NOW, LuaScript, luaHash } from './luaScript.ts';
import type { RedisConnection } from './redisConnection.ts';

/** One replica as its heartbeat describes it. */
export interface ReplicaInfo {
  readonly replicaId: string;
  /** `MAX_STREAMS` */
  readonly capacity: number;
  /** Streams it holds. */
  readonly active: number;
  /** Streams it could take now (0 while draining). */
  readonly free: number;
  readonly draining: boolean;
  /** Last heartbeat, ms epoch (Redis clock). */
  readonly at: number;
}

/** How long a command stream lives after its last write, ms: a dead replica's stream goes away. */
export const COMMAND_STREAM_TTL_MS = 60 * 60 * 1000;

// KEYS: replicas, commands; ARGV: id, infoJson, commandTtl
const HEARTBEAT = new LuaScript(
  'heartbeat',
  `${LUA_NOW}
local t = now_ms()
local info = cjson.decode(ARGV[2])
info.at = t
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(info))
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
return t
`,
);

// KEYS: replicas; ARGV: pruneAfterMs → entries (dead ones pruned)
const LIST = new LuaScript(
  'replicas',
  `${LUA_NOW}
local t = now_ms()
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local ok, info = pcall(cjson.decode, all[i + 1])
  if not ok or type(info) ~= 'table' or tonumber(info.at or 0) < t - tonumber(ARGV[1]) then redis.call('HDEL', KEYS[1], all[i]) end
end
return cjson.encode({ now = t, all = all })
`,
);

/**
 * Replica membership: each replica writes a heartbeat with its free capacity every renewal
 * period; a replica whose heartbeat is older than `liveWindowMs` counts as gone. The takeover
 * planner and the hand-off use it to send streams where there is room.
 */
export class ReplicaRegistry {
  readonly #redis: RedisConnection;
  readonly #keys: ClusterKeys;
  readonly #liveWindowMs: number;

  constructor(options: { readonly redis: RedisConnection; readonly keys: ClusterKeys; readonly liveWindowMs: number }) {
    this.#redis = options.redis;
    this.#keys = options.keys;
    this.#liveWindowMs = options.liveWindowMs;
  }

  async heartbeat(info: Omit<ReplicaInfo, 'at'>): Promise<void> {
    await HEARTBEAT.run(
      this.#redis.client,
      [this.#keys.replicas, this.#keys.commands(info.replicaId)],
      [info.replicaId, JSON.stringify(info), COMMAND_STREAM_TTL_MS],
    );
  }

  /** Replicas with a fresh heartbeat. */
  async live(): Promise<ReplicaInfo[]> {
    const reply = await LIST.runJson(this.#redis.client, [this.#keys.replicas], [this.#liveWindowMs * 10]);
    const now = Number(reply['now']);
    const replicas: ReplicaInfo[] = [];
    for (const [replicaId, json] of Object.entries(luaHash(reply['all']))) {
      try {
        const info = JSON.parse(json) as Partial<ReplicaInfo>;
        const at = Number(info.at);
        if (!(now - at <= this.#liveWindowMs)) continue;
        replicas.push({
          replicaId,
          capacity: Number(info.capacity ?? 0),
          active: Number(info.active ?? 0),
          free: Number(info.free ?? 0),
          draining: info.draining === true,
          at,
        });
      } catch {
        // pruned by the script next time
      }
    }
    return replicas.sort((a, b) => (a.replicaId < b.replicaId ? -1 : a.replicaId > b.replicaId ? 1 : 0));
  }

  async unregister(replicaId: string): Promise<void> {
    await this.#redis.client.hDel(this.#keys.replicas, replicaId);
  }
}
