import { performance } from 'node:perf_hooks';
import { PRODUCTS, type StreamStart } from '../rtms/products.ts';
import { STREAM_STATES, type StreamState } from '../vocabulary/streamState.ts';
import type { StreamStats } from '../vocabulary/streamStats.ts';
import { type ClusterKeys, parseLeaseValue } from './clusterKeys.ts';
import { ClusterError } from './clusterError.ts';
import { LUA_NOW, LuaScript, luaArray } from './luaScript.ts';
import type { RedisConnection } from './redisConnection.ts';
import { LUA_CLAIM_BODY, type ClaimOutcome, type HeldLease, type StreamLeases } from './streamLeases.ts';

/**
 * The cluster's stream records in Redis: the stored `rtms_started` payload that lets any
 * replica resume a stream, its metadata (state, latest statistics, exclusions), and the
 * index of all streams scored by lease expiry, from which orphans are found. Writes that
 * belong to the owner are fenced: the script compares the lease value (owner and token)
 * first and does nothing for a replica that is not the owner any more.
 */

/** A stream as stored in Redis. */
export interface StoredStream {
  readonly rtmsStreamId: string;
  readonly start: StreamStart | undefined;
  readonly stats: StreamStats | undefined;
  readonly state: StreamState | undefined;
  /** Replica holding the lease, undefined when nobody does (orphan). */
  readonly owner: string | undefined;
  /** ms epoch, Redis clock */
  readonly createdAt: number | undefined;
}

/** A stream without a live lease, as the takeover scan sees it. */
export interface OrphanStream {
  readonly rtmsStreamId: string;
  /** ms (Redis clock) since its lease expired or was released, or since it was announced if it never had an owner. */
  readonly orphanedMs: number;
  /** Zoom stopped it (or an operator closed it) while it had no owner: finish it instead of rejoining. */
  readonly over: boolean;
  /** Why the last owner let it go, if it did (`handoff`, ...). */
  readonly released: string | undefined;
}

export type AnnounceOutcome =
  /** An older `rtms_started` than the one stored: ignored. */
  | { readonly status: 'stale' }
  | {
      readonly status: 'created' | 'updated';
      /** `claimed` when we asked to claim and won; `held` when a replica owns it; undefined = no owner and not claimed. */
      readonly claim: ClaimOutcome | undefined;
    };

/** What recording a command for a stream found (see `note()`). */
export type NoteOutcome =
  | { readonly status: 'unknown' }
  | { readonly status: 'owned'; readonly owner: string }
  /** It had no owner and was stopped or closed: deleted. */
  | { readonly status: 'deleted' }
  | { readonly status: 'orphan' };

/** What a command changes in the record before it is routed to the owner. */
export type NoteKind = 'interrupt' | 'stop' | 'close' | 'exclude' | 'started';

// KEYS: record, index, lease, fence, excluded; ARGV: startJson, eventTs, id, claimFor ('' = do not claim), ttl
const ANNOUNCE = new LuaScript(
  'announce',
  `${LUA_NOW}${LUA_CLAIM_BODY}
local t = now_ms()
local current = redis.call('HGET', KEYS[1], 'eventTs')
local status
if not current then
  redis.call('HSET', KEYS[1], 'start', ARGV[1], 'eventTs', ARGV[2], 'createdAt', t, 'updatedAt', t, 'state', 'idle')
  status = 'created'
elseif tonumber(ARGV[2]) < tonumber(current) then
  return cjson.encode({ status = 'stale' })
else
  redis.call('HSET', KEYS[1], 'start', ARGV[1], 'eventTs', ARGV[2], 'updatedAt', t)
  -- Only a newer announcement starts a new life; the same one again keeps a stop recorded meanwhile.
  if tonumber(ARGV[2]) > tonumber(current) then redis.call('HDEL', KEYS[1], 'stopReason', 'closeRequested') end
  status = 'updated'
end
redis.call('ZADD', KEYS[2], 'NX', 0, ARGV[3])
local lease = redis.call('GET', KEYS[3])
if lease then return cjson.encode({ status = status, claim = { status = 'held', value = lease } }) end
if ARGV[4] == '' then return cjson.encode({ status = status }) end
return cjson.encode({ status = status, claim = claim(KEYS[3], KEYS[4], KEYS[2], KEYS[1], KEYS[5], ARGV[4], ARGV[5], ARGV[3]) })
`,
);

// KEYS: lease, record; ARGV: value, field, value, ...  → 1 written, 0 not the owner, 2 record missing
const WRITE = new LuaScript(
  'write',
  `${LUA_NOW}
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('EXISTS', KEYS[2]) == 0 then return 2 end
local fields = {}
for i = 2, #ARGV do fields[#fields + 1] = ARGV[i] end
fields[#fields + 1] = 'updatedAt'
fields[#fields + 1] = now_ms()
redis.call('HSET', KEYS[2], unpack(fields))
return 1
`,
);

// KEYS: lease, record, index, excluded; ARGV: value, id, ttl, startJson, eventTs, createdAt, state, statsJson, owner, token, excluded...
const RESTORE = new LuaScript(
  'restore',
  `${LUA_NOW}
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local t = now_ms()
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('HSET', KEYS[2], 'start', ARGV[4], 'eventTs', ARGV[5], 'createdAt', ARGV[6])
end
redis.call('HSET', KEYS[2], 'state', ARGV[7], 'stats', ARGV[8], 'owner', ARGV[9], 'token', ARGV[10], 'updatedAt', t)
redis.call('ZADD', KEYS[3], t + tonumber(ARGV[3]), ARGV[2])
for i = 11, #ARGV do redis.call('SADD', KEYS[4], ARGV[i]) end
return 1
`,
);

// KEYS: lease, record, index, fence, excluded; ARGV: value, id
const FINISH = new LuaScript(
  'finish',
  `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[4], KEYS[5])
redis.call('ZREM', KEYS[3], ARGV[2])
return 1
`,
);

// KEYS: record, lease, excluded, index, fence; ARGV: kind, argument, id
const NOTE = new LuaScript(
  'note',
  `
if redis.call('EXISTS', KEYS[1]) == 0 then return cjson.encode({ status = 'unknown' }) end
if ARGV[1] == 'stop' then redis.call('HSET', KEYS[1], 'stopReason', ARGV[2])
elseif ARGV[1] == 'close' then redis.call('HSET', KEYS[1], 'closeRequested', '1')
elseif ARGV[1] == 'exclude' then redis.call('SADD', KEYS[3], ARGV[2]) end
local lease = redis.call('GET', KEYS[2])
if lease then return cjson.encode({ status = 'owned', value = lease }) end
if ARGV[1] == 'stop' or ARGV[1] == 'close' then
  redis.call('DEL', KEYS[1], KEYS[3], KEYS[5])
  redis.call('ZREM', KEYS[4], ARGV[3])
  return cjson.encode({ status = 'deleted' })
end
return cjson.encode({ status = 'orphan' })
`,
);

// KEYS: lease, record, index, fence, excluded; ARGV: id → 1 removed, 0 a replica holds its lease
const REMOVE_ORPHAN = new LuaScript(
  'removeOrphan',
  `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2], KEYS[4], KEYS[5])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
`,
);

// KEYS: index; ARGV: limit → streams whose lease expired (score ≤ now), with scores
const SCAN = new LuaScript(
  'scan',
  `${LUA_NOW}
local t = now_ms()
return cjson.encode({ now = t, items = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', t, 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[1])) })
`,
);

export interface StreamRegistryOptions {
  readonly redis: RedisConnection;
  readonly keys: ClusterKeys;
  readonly leases: StreamLeases;
}

export class StreamRegistry {
  readonly #redis: RedisConnection;
  readonly #keys: ClusterKeys;
  readonly #leases: StreamLeases;

  constructor(options: StreamRegistryOptions) {
    this.#redis = options.redis;
    this.#keys = options.keys;
    this.#leases = options.leases;
  }

  /**
   * Stores an `rtms_started` payload unless a newer one is stored (stale), adds the stream to
   * the index, and with `claim` takes the lease if nobody holds it (in the same script, so a
   * duplicate delivery on another replica cannot slip in between).
   */
  async announce(start: StreamStart, options: { readonly claim: boolean }): Promise<AnnounceOutcome> {
    const id = start.rtmsStreamId;
    const keys = this.#keys;
    const sentAt = performance.now();
    const reply = await ANNOUNCE.runJson(
      this.#redis.client,
      [keys.stream(id), keys.index, keys.lease(id), keys.fence(id), keys.excluded(id)],
      [JSON.stringify(start), start.eventTs, id, options.claim ? this.#leases.replicaId : '', this.#leases.ttlMs],
    );
    const status = reply['status'];
    if (status === 'stale') return { status: 'stale' };
    if (status !== 'created' && status !== 'updated') throw new ClusterError('CLUSTER_REPLY_INVALID', `announce: unexpected status ${String(status)}`);
    const claimReply = reply['claim'];
    const claim =
      claimReply !== null && typeof claimReply === 'object' && !Array.isArray(claimReply)
        ? this.#leases.claimOutcome(id, claimReply as Record<string, unknown>, sentAt)
        : undefined;
    return { status, claim };
  }

  /** Fenced metadata update by the owner. */
  async write(lease: HeldLease, fields: { readonly state?: StreamState; readonly stats?: StreamStats }): Promise<'written' | 'notOwner' | 'missing'> {
    const args: string[] = [lease.value];
    if (fields.state !== undefined) args.push('state', fields.state);
    if (fields.stats !== undefined) args.push('stats', JSON.stringify(fields.stats));
    if (args.length === 1) return 'written';
    const reply = await WRITE.run(this.#redis.client, [this.#keys.lease(lease.rtmsStreamId), this.#keys.stream(lease.rtmsStreamId)], args);
    return reply === 1 ? 'written' : reply === 2 ? 'missing' : 'notOwner';
  }

  /**
   * Fenced re-creation of a record the owner knows and Redis lost (restart without
   * persistence): payload, statistics, exclusions, index entry. Keeps a newer stored payload.
   */
  async restore(
    lease: HeldLease,
    stream: { readonly start: StreamStart; readonly stats: StreamStats; readonly excluded: readonly string[] },
  ): Promise<boolean> {
    const id = lease.rtmsStreamId;
    const keys = this.#keys;
    const reply = await RESTORE.run(
      this.#redis.client,
      [keys.lease(id), keys.stream(id), keys.index, keys.excluded(id)],
      [
        lease.value,
        id,
        this.#leases.ttlMs,
        JSON.stringify(stream.start),
        stream.start.eventTs,
        stream.stats.createdAt,
        stream.stats.state,
        JSON.stringify(stream.stats),
        this.#leases.replicaId,
        lease.token,
        ...stream.excluded,
      ],
    );
    return reply === 1;
  }

  /** Fenced removal of a finished stream: lease, record, fence, exclusions, index entry. */
  async finish(lease: HeldLease): Promise<boolean> {
    const id = lease.rtmsStreamId;
    const keys = this.#keys;
    const reply = await FINISH.run(this.#redis.client, [keys.lease(id), keys.stream(id), keys.index, keys.fence(id), keys.excluded(id)], [lease.value, id]);
    return reply === 1;
  }

  /**
   * Records what a command changes for whoever owns the stream now or later (stop reason,
   * close request, exclusion) and says who owns it. A stopped or closed stream without an
   * owner is deleted right away: there is no connection to end.
   */
  async note(rtmsStreamId: string, kind: NoteKind, argument = ''): Promise<NoteOutcome> {
    const keys = this.#keys;
    const reply = await NOTE.runJson(
      this.#redis.client,
      [keys.stream(rtmsStreamId), keys.lease(rtmsStreamId), keys.excluded(rtmsStreamId), keys.index, keys.fence(rtmsStreamId)],
      [kind, argument, rtmsStreamId],
    );
    switch (reply['status']) {
      case 'unknown':
      case 'deleted':
      case 'orphan':
        return { status: reply['status'] };
      case 'owned': {
        const value = String(reply['value']);
        return { status: 'owned', owner: parseLeaseValue(value)?.replicaId ?? value };
      }
      default:
        throw new ClusterError('CLUSTER_REPLY_INVALID', `note: unexpected status ${String(reply['status'])}`);
    }
  }

  /** Streams whose lease has expired or was released (at most `limit`), oldest first. */
  async orphans(limit: number): Promise<OrphanStream[]> {
    const reply = await SCAN.runJson(this.#redis.client, [this.#keys.index], [limit]);
    const now = Number(reply['now']);
    const items = luaArray(reply['items']);
    const candidates: Array<{ id: string; score: number }> = [];
    for (let i = 0; i + 1 < items.length; i += 2) candidates.push({ id: String(items[i]), score: Number(items[i + 1]) });
    if (candidates.length === 0) return [];
    const client = this.#redis.client;
    const rows = await Promise.all(
      candidates.map(({ id }) =>
        Promise.all([client.hmGet(this.#keys.stream(id), ['createdAt', 'stopReason', 'closeRequested', 'released']), client.exists(this.#keys.lease(id))]),
      ),
    );
    const orphans: OrphanStream[] = [];
    candidates.forEach(({ id, score }, i) => {
      const [fields, leased] = rows[i] ?? [[], 1];
      // Renewed since the scan read the index: not an orphan.
      if (leased === 1) return;
      const [createdAt, stopReason, closeRequested, released] = fields.map((value) => (value === null ? undefined : String(value)));
      const since = score > 0 ? score : Number(createdAt ?? now);
      orphans.push({
        rtmsStreamId: id,
        orphanedMs: Math.max(0, now - since),
        over: stopReason !== undefined || closeRequested !== undefined || createdAt === undefined,
        released,
      });
    });
    return orphans;
  }

  /**
   * Removes an orphan that is over (stopped, closed, record gone, or given up): only while
   * nobody holds its lease. False when a replica claimed it meanwhile.
   */
  async removeOrphan(rtmsStreamId: string): Promise<boolean> {
    const keys = this.#keys;
    const id = rtmsStreamId;
    const reply = await REMOVE_ORPHAN.run(this.#redis.client, [keys.lease(id), keys.stream(id), keys.index, keys.fence(id), keys.excluded(id)], [id]);
    return reply === 1;
  }

  /** Every stream of the cluster. */
  async list(): Promise<StoredStream[]> {
    const ids = await this.#redis.client.zRange(this.#keys.index, 0, -1);
    const streams = await Promise.all(ids.map((id) => this.get(String(id))));
    return streams.filter((stream) => stream !== undefined);
  }

  async get(rtmsStreamId: string): Promise<StoredStream | undefined> {
    const client = this.#redis.client;
    const [fields, lease] = await Promise.all([
      client.hmGet(this.#keys.stream(rtmsStreamId), ['start', 'stats', 'state', 'createdAt']),
      client.get(this.#keys.lease(rtmsStreamId)),
    ]);
    const [start, stats, state, createdAt] = fields.map((value) => (value === null ? undefined : String(value)));
    if (start === undefined) return undefined;
    return {
      rtmsStreamId,
      start: parseStoredStart(start),
      stats: parseStoredStats(stats),
      state: STREAM_STATES.includes(state as StreamState) ? (state as StreamState) : undefined,
      owner: lease === null ? undefined : parseLeaseValue(String(lease))?.replicaId,
      createdAt: createdAt === undefined ? undefined : Number(createdAt),
    };
  }
}

/** The stored `start` field, or undefined when it is not a payload this version wrote. */
export function parseStoredStart(json: string | undefined): StreamStart | undefined {
  if (json === undefined) return undefined;
  try {
    const value = JSON.parse(json) as Partial<StreamStart> | null;
    if (
      value === null ||
      typeof value.rtmsStreamId !== 'string' ||
      !PRODUCTS.includes(value.product as StreamStart['product']) ||
      typeof value.entityId !== 'string' ||
      typeof value.entityIdKey !== 'string' ||
      typeof value.signalingUrl !== 'string' ||
      typeof value.serverUrls !== 'string' ||
      typeof value.eventTs !== 'number'
    ) {
      return undefined;
    }
    return value as StreamStart;
  } catch {
    return undefined;
  }
}

/** The stored `stats` field (written by an owner with `JSON.stringify`). */
export function parseStoredStats(json: string | undefined): StreamStats | undefined {
  if (json === undefined || json === '') return undefined;
  try {
    const value = JSON.parse(json) as StreamStats | null;
    return value !== null && typeof value.rtmsStreamId === 'string' && typeof value.createdAt === 'number' ? value : undefined;
  } catch {
    return undefined;
  }
}
