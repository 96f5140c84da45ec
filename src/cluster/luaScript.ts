import { createHash } from 'node:crypto';
import { ClusterError } from './clusterError.ts';
import type { RedisClient } from './redisConnection.ts';

/**
 * Redis `TIME` in ms, for scripts: every timestamp stored in Redis comes from the server's
 * clock, so replicas with skewed clocks still agree on expiry and orphan ages.
 */
export const LUA_NOW = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/**
 * A Lua script run atomically on Redis: `EVALSHA`, falling back to `EVAL` when the server
 * does not know it (first use, or after a restart flushed the script cache). Scripts are
 * small; one per compare-and-act step of the cluster protocol.
 */
export class LuaScript {
  readonly name: string;
  readonly #source: string;
  readonly #sha: string;

  constructor(name: string, source: string) {
    this.name = name;
    this.#source = source;
    this.#sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: RedisClient, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    const options = { keys: [...keys], arguments: args.map(String) };
    try {
      return await client.evalSha(this.#sha, options);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(this.#source, options);
    }
  }

  /** Runs a script that answers `cjson.encode(...)` and parses the answer. */
  async runJson(client: RedisClient, keys: readonly string[], args: readonly (string | number)[]): Promise<Record<string, unknown>> {
    const reply = await this.run(client, keys, args);
    if (typeof reply !== 'string') throw new ClusterError('CLUSTER_REPLY_INVALID', `${this.name}: expected a JSON string reply`);
    const parsed: unknown = JSON.parse(reply);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new ClusterError('CLUSTER_REPLY_INVALID', `${this.name}: expected a JSON object reply`);
    }
    return parsed as Record<string, unknown>;
  }
}

/** cjson encodes an empty Lua table as `{}`: an array field may come back as an object. */
export function luaArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A flat `HGETALL` reply (`[field, value, …]`) as an object. */
export function luaHash(value: unknown): Record<string, string> {
  const items = luaArray(value);
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < items.length; i += 2) hash[String(items[i])] = String(items[i + 1]);
  return hash;
}
