import { randomUUID } from 'node:crypto'
import type { RedisLink } from './redis.js'

/*
 * Connection slots per caller counted across the replicas (WebSocket connections, SSE streams). Each
 * replica keeps its own counts in a hash of its own (`slots:<pool>:r:<replica>`: caller -> count), and
 * lists itself in a sorted set of live replicas scored by when it stops being live. A take sums the
 * caller's counts over the live replicas and adds one to its own when under the ceiling, in one script.
 * Every heartbeat (REDIS_HEARTBEAT_MS) pushes the replica's liveness and its hash's expiry to three
 * beats ahead; a replica that stops beating (killed, cut off from Redis) drops out of the sum after
 * three beats and its hash expires, so its slots are freed without it. The scripts read Redis' clock
 * (TIME), so replicas' clocks need not agree. Not for Redis Cluster: a take reads other replicas' keys.
 * Every call waits for Redis at most the link's deadline, a take (on a request's path) at most
 * REDIS_REQUEST_TIMEOUT_MS, then throws (caller-slots.ts counts alone).
 */

const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + ttl, ARGV[4])
local total = 0
for _, replica in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local count = redis.call('HGET', ARGV[5] .. replica, ARGV[1])
  if count then total = total + tonumber(count) end
end
if total >= tonumber(ARGV[2]) then return 0 end
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
redis.call('PEXPIRE', KEYS[2], ttl)
return 1`

const RELEASE = `
if redis.call('HINCRBY', KEYS[1], ARGV[1], -1) <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return 1`

/** Liveness: this replica stays in the sum for three more beats, and so does its hash (1 when it exists). */
const BEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
redis.call('ZADD', KEYS[1], now + ttl, ARGV[2])
return redis.call('PEXPIRE', KEYS[2], ttl)`

export class RedisSlots {
  private readonly replica = randomUUID()
  private readonly ttlMs: number

  constructor (private readonly link: RedisLink, private readonly pool: string) {
    this.ttlMs = link.heartbeatMs * 3
  }

  /** Takes a slot for `caller` when the cluster holds fewer than `max` for it; throws while Redis is away. */
  async take (caller: string, max: number): Promise<boolean> {
    const taken = await this.link.runForRequest(async (redis) =>
      await redis.eval(TAKE, 2, this.replicasKey(), this.ownKey(), caller, max, this.ttlMs, this.replica, this.hashPrefix()))
    return taken === 1
  }

  async release (caller: string): Promise<void> {
    await this.link.run(async (redis) => await redis.eval(RELEASE, 1, this.ownKey(), caller))
  }

  /** Renews this replica's liveness; false when its hash is gone (expired while Redis was away). */
  async beat (): Promise<boolean> {
    return await this.link.run(async (redis) => await redis.eval(BEAT, 2, this.replicasKey(), this.ownKey(), this.ttlMs, this.replica)) === 1
  }

  /** Rewrites this replica's hash to the counts it holds (after Redis was away, takes and releases were counted only here). */
  async rewrite (counts: ReadonlyMap<string, number>): Promise<void> {
    await this.link.run(async (redis) => {
      const multi = redis.multi().del(this.ownKey())
      if (counts.size > 0) multi.hset(this.ownKey(), Object.fromEntries(counts)).pexpire(this.ownKey(), this.ttlMs)
      return await multi.exec()
    })
  }

  /** Leaves the cluster's sum at once (a replica closing cleanly). */
  async leave (): Promise<void> {
    await this.link.run(async (redis) => await redis.multi().zrem(this.replicasKey(), this.replica).del(this.ownKey()).exec())
  }

  get beatMs (): number {
    return this.link.heartbeatMs
  }

  private replicasKey (): string {
    return this.link.key(`slots:${this.pool}:replicas`)
  }

  private hashPrefix (): string {
    return this.link.key(`slots:${this.pool}:r:`)
  }

  private ownKey (): string {
    return `${this.hashPrefix()}${this.replica}`
  }
}
