import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { describeError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { LeaseGuard } from '../supervisor/supervisor.ts';
import { type ClusterKeys, parseLeaseValue } from './clusterKeys.ts';
import { ClusterError } from './clusterError.ts';
import { LUA_NOW, LuaScript, luaArray, luaHash } from './luaScript.ts';
import type { RedisConnection } from './redisConnection.ts';

/*
 * The lease protocol (docs/replicas.md#ownership):
 *
 *   claim    no lease key → token = INCR fence; SET lease "<replica>|<token>" PX ttl
 *   renew    every ttl/3, one script for all held leases: value unchanged → PEXPIRE;
 *            key gone (Redis restarted without persistence) → SET it again, fence ≥ token;
 *            someone else's value → lost ("taken"): stop the stream at once
 *   deadline no successful renewal for ttl − margin (Redis unreachable) → lost ("expired"):
 *            stop the stream at once, before Redis lets the key expire and a peer claims it
 *   release  compare-and-delete; the stream record stays for the next owner
 *
 *   local clock:  ─ renew sent ────────────── ttl − margin: stop ──┐
 *   Redis clock:       └ renew applied ───────────────────── ttl: key expires ── peer claims
 */

/** A lease this replica holds. */
export interface HeldLease {
  readonly rtmsStreamId: string;
  /** `<replicaId>|<token>`, the value of the lease key. */
  readonly value: string;
  /** Fencing token: grows with every new owner of the stream. */
  readonly token: number;
  /** When the lease was acquired, ms epoch (local clock). */
  readonly acquiredAt: number;
  /** `performance.now()` when the last successful claim or renewal was sent. */
  confirmedAt: number;
}

/** What `claim()` found. */
export type ClaimOutcome =
  | {
      readonly status: 'claimed';
      readonly lease: HeldLease;
      /** The stream record as it was before the claim (`stream:<id>` hash). */
      readonly record: Readonly<Record<string, string>>;
      readonly excluded: readonly string[];
      /** How long the stream had been without an owner, ms (Redis clock); undefined for one never owned. */
      readonly orphanedMs: number | undefined;
    }
  | { readonly status: 'held'; readonly owner: string }
  /** No record: the stream ended (or never existed). */
  | { readonly status: 'gone' };

export interface StreamLeasesEvents {
  /** A held lease is gone: `taken` by another replica or `expired` (Redis unreachable past the deadline). */
  lost: [{ readonly rtmsStreamId: string; readonly reason: 'taken' | 'expired'; readonly lease: HeldLease }];
  /** The lease key had vanished (Redis restarted without persistence) and was set again: restore the record. */
  reacquired: [{ readonly rtmsStreamId: string; readonly lease: HeldLease }];
}

export interface StreamLeasesOptions {
  readonly redis: RedisConnection;
  readonly keys: ClusterKeys;
  readonly replicaId: string;
  readonly ttlMs: number;
  readonly renewMs: number;
  readonly logger: Logger;
}

/** Claim body shared by `CLAIM` and the stream registry's `ANNOUNCE` (KEYS: lease, fence, index, record, excluded). */
export const LUA_CLAIM_BODY = `
local function claim(lease, fence, index, record, excluded, replica, ttl, id)
  local t = now_ms()
  local token = redis.call('INCR', fence)
  local value = replica .. '|' .. token
  redis.call('SET', lease, value, 'PX', ttl)
  local score = redis.call('ZSCORE', index, id)
  redis.call('ZADD', index, t + tonumber(ttl), id)
  local before = redis.call('HGETALL', record)
  redis.call('HSET', record, 'owner', replica, 'token', token, 'claimedAt', t, 'updatedAt', t)
  redis.call('HDEL', record, 'released')
  local since = 0
  if score then since = tonumber(score) end
  return { status = 'claimed', value = value, token = token, now = t, orphanedSince = since,
           record = before, excluded = redis.call('SMEMBERS', excluded) }
end
`;

// KEYS: lease, fence, index, record, excluded; ARGV: replica, ttl, id
const CLAIM = new LuaScript(
  'claim',
  `${LUA_NOW}${LUA_CLAIM_BODY}
if redis.call('EXISTS', KEYS[4]) == 0 then
  redis.call('ZREM', KEYS[3], ARGV[3])
  return cjson.encode({ status = 'gone' })
end
local current = redis.call('GET', KEYS[1])
if current then return cjson.encode({ status = 'held', value = current }) end
return cjson.encode(claim(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[1], ARGV[2], ARGV[3]))
`,
);

// KEYS: index, then lease_i, fence_i per lease; ARGV: ttl, then id_i, value_i, token_i.
// Answers per lease: 1 extended, 2 set again (key had vanished), 0 someone else holds it.
const RENEW = new LuaScript(
  'renew',
  `${LUA_NOW}
local t = now_ms()
local ttl = tonumber(ARGV[1])
local out = {}
local n = (#KEYS - 1) / 2
for i = 1, n do
  local lease, fence = KEYS[2 * i], KEYS[2 * i + 1]
  local id, value, token = ARGV[3 * i - 1], ARGV[3 * i], tonumber(ARGV[3 * i + 1])
  local current = redis.call('GET', lease)
  if current == value then
    redis.call('PEXPIRE', lease, ttl)
    redis.call('ZADD', KEYS[1], t + ttl, id)
    out[i] = 1
  elseif not current then
    redis.call('SET', lease, value, 'PX', ttl)
    if tonumber(redis.call('GET', fence) or '0') < token then redis.call('SET', fence, token) end
    redis.call('ZADD', KEYS[1], t + ttl, id)
    out[i] = 2
  else
    out[i] = 0
  end
end
return out
`,
);

// KEYS: lease, index, record; ARGV: value, id, reason, statsJson ('' keeps), state ('' keeps)
const RELEASE = new LuaScript(
  'release',
  `${LUA_NOW}
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local t = now_ms()
redis.call('DEL', KEYS[1])
if redis.call('EXISTS', KEYS[3]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[2])
  return 1
end
redis.call('ZADD', KEYS[2], t, ARGV[2])
redis.call('HSET', KEYS[3], 'owner', '', 'released', ARGV[3], 'updatedAt', t)
if ARGV[4] ~= '' then redis.call('HSET', KEYS[3], 'stats', ARGV[4]) end
if ARGV[5] ~= '' then redis.call('HSET', KEYS[3], 'state', ARGV[5]) end
return 1
`,
);

/** Leases per renewal script call. */
const RENEW_BATCH = 200;

/**
 * The stream leases this replica holds, kept alive by one renewal script per period, with a
 * local deadline that stops a stream before a peer could claim it. Doubles as the
 * supervisor's `LeaseGuard`: `confirm()` renews one lease on the spot.
 */
export class StreamLeases extends EventEmitter<StreamLeasesEvents> implements LeaseGuard {
  readonly replicaId: string;
  readonly ttlMs: number;
  /** Stop this long before the lease would expire in Redis, ms: covers the time to close the sockets. */
  readonly marginMs: number;
  readonly #redis: RedisConnection;
  readonly #keys: ClusterKeys;
  readonly #renewMs: number;
  readonly #logger: Logger;
  readonly #held = new Map<string, HeldLease>();
  #renewTimer: NodeJS.Timeout | undefined;
  #deadlineTimer: NodeJS.Timeout | undefined;
  #renewing = false;
  #renewFailing = false;

  constructor(options: StreamLeasesOptions) {
    super();
    this.#redis = options.redis;
    this.#keys = options.keys;
    this.replicaId = options.replicaId;
    this.ttlMs = options.ttlMs;
    this.#renewMs = options.renewMs;
    this.marginMs = Math.min(1000, Math.floor(options.ttlMs / 4));
    this.#logger = options.logger;
  }

  get size(): number {
    return this.#held.size;
  }

  holds(rtmsStreamId: string): boolean {
    return this.#held.has(rtmsStreamId);
  }

  get(rtmsStreamId: string): HeldLease | undefined {
    return this.#held.get(rtmsStreamId);
  }

  /**
   * The local fencing check: held and within its deadline. No other replica can hold the
   * lease now, since Redis expires it only after the deadline. (The renewal loop, every
   * ttl/3, finds a lease Redis gave to someone else after losing data.)
   */
  valid(rtmsStreamId: string): boolean {
    const lease = this.#held.get(rtmsStreamId);
    return lease !== undefined && !this.#pastDeadline(lease);
  }

  ids(): string[] {
    return [...this.#held.keys()];
  }

  /** Starts renewing and watching the deadlines. */
  start(): void {
    this.#renewTimer ??= setInterval(() => void this.renewAll(), this.#renewMs);
    const checkMs = Math.max(50, Math.min(250, Math.floor(this.ttlMs / 20)));
    this.#deadlineTimer ??= setInterval(() => this.#checkDeadlines(), checkMs);
  }

  stop(): void {
    clearInterval(this.#renewTimer);
    clearInterval(this.#deadlineTimer);
    this.#renewTimer = undefined;
    this.#deadlineTimer = undefined;
  }

  /**
   * Takes the lease of a stream that has none (SET NX with a new fencing token). A claimed
   * lease is held (renewed) from then on; `forget()` or `release()` ends that.
   */
  async claim(rtmsStreamId: string): Promise<ClaimOutcome> {
    const sentAt = performance.now();
    const keys = this.#keys;
    const reply = await CLAIM.runJson(
      this.#redis.client,
      [keys.lease(rtmsStreamId), keys.fence(rtmsStreamId), keys.index, keys.stream(rtmsStreamId), keys.excluded(rtmsStreamId)],
      [this.replicaId, this.ttlMs, rtmsStreamId],
    );
    return this.claimOutcome(rtmsStreamId, reply, sentAt);
  }

  /** Interprets a claim script answer (also the registry's `ANNOUNCE`); holds the lease if claimed. */
  claimOutcome(rtmsStreamId: string, reply: Record<string, unknown>, sentAt: number): ClaimOutcome {
    switch (reply['status']) {
      case 'gone':
        return { status: 'gone' };
      case 'held': {
        const owner = parseLeaseValue(String(reply['value']))?.replicaId ?? String(reply['value']);
        return { status: 'held', owner };
      }
      case 'claimed': {
        const value = String(reply['value']);
        const token = Number(reply['token']);
        if (parseLeaseValue(value)?.token !== token) throw new ClusterError('CLUSTER_REPLY_INVALID', `claim: bad lease value for ${rtmsStreamId}`);
        const lease: HeldLease = { rtmsStreamId, value, token, acquiredAt: Date.now(), confirmedAt: sentAt };
        this.#held.set(rtmsStreamId, lease);
        const since = Number(reply['orphanedSince']);
        return {
          status: 'claimed',
          lease,
          record: luaHash(reply['record']),
          excluded: luaArray(reply['excluded']).map(String),
          orphanedMs: since > 0 ? Math.max(0, Number(reply['now']) - since) : undefined,
        };
      }
      default:
        throw new ClusterError('CLUSTER_REPLY_INVALID', `claim: unexpected status ${String(reply['status'])}`);
    }
  }

  /** Stops holding (renewing) a lease without touching Redis; it expires there on its own. */
  forget(rtmsStreamId: string): HeldLease | undefined {
    const lease = this.#held.get(rtmsStreamId);
    this.#held.delete(rtmsStreamId);
    return lease;
  }

  /**
   * Compare-and-delete: gives the stream up for another replica, keeping its record (and
   * storing `stats`/`state` in it when given). False when the lease was not ours any more.
   */
  async release(lease: HeldLease, reason: string, record: { readonly stats?: string | undefined; readonly state?: string } = {}): Promise<boolean> {
    if (this.#held.get(lease.rtmsStreamId) === lease) this.#held.delete(lease.rtmsStreamId);
    const id = lease.rtmsStreamId;
    const reply = await RELEASE.run(
      this.#redis.client,
      [this.#keys.lease(id), this.#keys.index, this.#keys.stream(id)],
      [lease.value, id, reason, record.stats ?? '', record.state ?? ''],
    );
    return reply === 1;
  }

  /**
   * The fencing check before a (re)connect decision: renews the lease now. True while it is
   * ours (re-set if it had vanished); false once another replica holds it or the local
   * deadline passed. With Redis unreachable, true until the local deadline: no peer can
   * claim the lease before Redis expires it, which is later.
   */
  async confirm(rtmsStreamId: string): Promise<boolean> {
    const lease = this.#held.get(rtmsStreamId);
    if (lease === undefined || this.#pastDeadline(lease)) return false;
    try {
      const [result] = await this.#renew([lease]);
      return result === true;
    } catch (error) {
      this.#logger.debug({ rtmsStreamId, err: describeError(error) }, 'lease confirm: redis unavailable; within the local deadline');
      return this.#held.get(rtmsStreamId) === lease && !this.#pastDeadline(lease);
    }
  }

  /** One renewal round for every held lease (also run by the timer). */
  async renewAll(): Promise<void> {
    if (this.#renewing) return;
    this.#renewing = true;
    try {
      this.#checkDeadlines();
      const leases = [...this.#held.values()];
      for (let i = 0; i < leases.length; i += RENEW_BATCH) await this.#renew(leases.slice(i, i + RENEW_BATCH));
      if (this.#renewFailing) this.#logger.info({ leases: this.#held.size }, 'lease renewal works again');
      this.#renewFailing = false;
    } catch (error) {
      if (!this.#renewFailing)
        this.#logger.warn({ leases: this.#held.size, err: describeError(error) }, 'lease renewal failed; streams keep running until their lease deadline');
      this.#renewFailing = true;
    } finally {
      this.#renewing = false;
    }
  }

  /** Renews `leases`; resolves per lease whether it is still ours. */
  async #renew(leases: readonly HeldLease[]): Promise<boolean[]> {
    if (leases.length === 0) return [];
    const sentAt = performance.now();
    const keys = [this.#keys.index];
    const args: (string | number)[] = [this.ttlMs];
    for (const lease of leases) {
      keys.push(this.#keys.lease(lease.rtmsStreamId), this.#keys.fence(lease.rtmsStreamId));
      args.push(lease.rtmsStreamId, lease.value, lease.token);
    }
    const reply = luaArray(await RENEW.run(this.#redis.client, keys, args));
    return leases.map((lease, i) => {
      // Forgotten or replaced while the script ran: that decision stands.
      if (this.#held.get(lease.rtmsStreamId) !== lease) return false;
      const result = Number(reply[i]);
      if (result === 1 || result === 2) {
        lease.confirmedAt = sentAt;
        if (result === 2) {
          this.#logger.warn({ rtmsStreamId: lease.rtmsStreamId, token: lease.token }, 'lease key had vanished (Redis restarted?); re-acquired');
          this.emit('reacquired', { rtmsStreamId: lease.rtmsStreamId, lease });
        }
        return true;
      }
      this.#held.delete(lease.rtmsStreamId);
      this.#logger.warn({ rtmsStreamId: lease.rtmsStreamId, token: lease.token }, 'lease taken by another replica; stopping the stream here');
      this.emit('lost', { rtmsStreamId: lease.rtmsStreamId, reason: 'taken', lease });
      return false;
    });
  }

  #pastDeadline(lease: HeldLease): boolean {
    return performance.now() - lease.confirmedAt > this.ttlMs - this.marginMs;
  }

  #checkDeadlines(): void {
    for (const lease of [...this.#held.values()]) {
      if (!this.#pastDeadline(lease)) continue;
      this.#held.delete(lease.rtmsStreamId);
      this.#logger.warn(
        { rtmsStreamId: lease.rtmsStreamId, sinceConfirmedMs: Math.round(performance.now() - lease.confirmedAt) },
        'lease not renewed in time (Redis unreachable); stopping the stream here',
      );
      this.emit('lost', { rtmsStreamId: lease.rtmsStreamId, reason: 'expired', lease });
    }
  }
}
