import type { Delivery, Webhook } from '../domain/webhooks/model.js'
import { StoreFull, StoreUnavailable, type DueDelivery, type WebhookStore } from '../domain/webhooks/store.js'
import { RedisUnavailable, type RedisLink } from './redis.js'

/*
 * Webhooks on Redis, shared by the replicas and kept across restarts (src/domain/webhooks/store.ts says
 * what a store does). Keys, under REDIS_KEY_PREFIX and `webhooks:`:
 *   hooks            hash: webhook id → the webhook as JSON
 *   owner:<owner>    set: the owner's webhook ids (the cap per caller)
 *   d:<delivery id>  a delivery as JSON (settled ones expire after KEPT_MS: the log, and what makes an
 *                    event seen by several replicas one delivery)
 *   log:<webhook>    list: the webhook's delivery ids, newest first, at most logLimit
 *   q:<webhook>|<resource>  list: pending delivery ids of one resource for one webhook, oldest first
 *   queues           sorted set: each queue by when its head is due; a claim moves it to the claim's end,
 *                    so a replica that dies mid-attempt leaves it due again when the lease runs out
 *   wq:<webhook>     set: the webhook's queue names
 *   pending          sorted set: pending delivery ids by creation time (the backlog and its age)
 * Each step is one Lua script: atomic, whichever replicas run at once. While Redis is down, deliveries
 * queued are kept here (at most maxPending, oldest first) and written when it answers again; everything
 * else fails with StoreUnavailable (registration answers 503).
 */

const KEPT_MS = 7 * 86_400_000
/** A queue whose webhook is disabled is looked at again this much later (enabling it makes it due at once). */
const DISABLED_RETRY_MS = 60_000

const ENQUEUE = `
local p = ARGV[1]
if redis.call('HEXISTS', p .. 'hooks', ARGV[3]) == 0 then return 0 end
if redis.call('EXISTS', p .. 'd:' .. ARGV[2]) == 1 then return 0 end
if ARGV[9] == '1' and redis.call('ZCARD', p .. 'pending') >= tonumber(ARGV[11]) then return -1 end
redis.call('SET', p .. 'd:' .. ARGV[2], ARGV[4])
local log = p .. 'log:' .. ARGV[3]
redis.call('LPUSH', log, ARGV[2])
local limit = tonumber(ARGV[8])
for _, old in ipairs(redis.call('LRANGE', log, limit, -1)) do
  if not redis.call('ZSCORE', p .. 'pending', old) then redis.call('DEL', p .. 'd:' .. old) end
end
redis.call('LTRIM', log, 0, limit - 1)
if ARGV[9] == '1' then
  local q = p .. 'q:' .. ARGV[5]
  redis.call('RPUSH', q, ARGV[2])
  redis.call('SADD', p .. 'wq:' .. ARGV[3], ARGV[5])
  redis.call('ZADD', p .. 'pending', ARGV[7], ARGV[2])
  if redis.call('LLEN', q) == 1 then redis.call('ZADD', p .. 'queues', ARGV[6], ARGV[5]) end
else
  redis.call('PEXPIRE', p .. 'd:' .. ARGV[2], ARGV[10])
end
return 1
`

const CLAIM = `
local p = ARGV[1]
local now = tonumber(ARGV[2])
local out = {}
for _, name in ipairs(redis.call('ZRANGEBYSCORE', p .. 'queues', '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))) do
  local q = p .. 'q:' .. name
  local head = redis.call('LINDEX', q, 0)
  local webhookId = string.match(name, '^([^|]+)|')
  local webhook = redis.call('HGET', p .. 'hooks', webhookId)
  local delivery = head and redis.call('GET', p .. 'd:' .. head)
  if not head or not webhook then
    redis.call('ZREM', p .. 'queues', name)
  elseif not delivery then
    redis.call('LPOP', q)
    redis.call('ZREM', p .. 'pending', head)
    redis.call('ZADD', p .. 'queues', now, name)
  elseif cjson.decode(webhook).enabled == false then
    redis.call('ZADD', p .. 'queues', now + tonumber(ARGV[5]), name)
  else
    redis.call('ZADD', p .. 'queues', now + tonumber(ARGV[4]), name)
    table.insert(out, delivery)
    table.insert(out, webhook)
  end
end
return out
`

/** The score of a queue from its head (due at its next attempt), or no score when it is empty. */
const RESCORE = `
local function rescore (p, name, now)
  local head = redis.call('LINDEX', p .. 'q:' .. name, 0)
  if not head then
    redis.call('ZREM', p .. 'queues', name)
    return
  end
  local delivery = redis.call('GET', p .. 'd:' .. head)
  local at = now
  if delivery then at = tonumber(cjson.decode(delivery).nextAttemptAt) or now end
  redis.call('ZADD', p .. 'queues', at, name)
end
`

const FINISH = RESCORE + `
local p = ARGV[1]
if redis.call('EXISTS', p .. 'd:' .. ARGV[2]) == 0 then return 0 end
local q = p .. 'q:' .. ARGV[4]
if ARGV[5] == '1' then
  redis.call('SET', p .. 'd:' .. ARGV[2], ARGV[3])
else
  redis.call('SET', p .. 'd:' .. ARGV[2], ARGV[3], 'PX', ARGV[7])
  redis.call('LREM', q, 1, ARGV[2])
  redis.call('ZREM', p .. 'pending', ARGV[2])
end
rescore(p, ARGV[4], tonumber(ARGV[6]))
return 1
`

const REQUEUE = `
local p = ARGV[1]
if redis.call('EXISTS', p .. 'd:' .. ARGV[2]) == 0 or redis.call('ZSCORE', p .. 'pending', ARGV[2]) then return 0 end
if redis.call('ZCARD', p .. 'pending') >= tonumber(ARGV[8]) then return -1 end
redis.call('SET', p .. 'd:' .. ARGV[2], ARGV[3])
local q = p .. 'q:' .. ARGV[4]
redis.call('RPUSH', q, ARGV[2])
redis.call('SADD', p .. 'wq:' .. ARGV[5], ARGV[4])
redis.call('ZADD', p .. 'pending', ARGV[7], ARGV[2])
if redis.call('LLEN', q) == 1 then redis.call('ZADD', p .. 'queues', ARGV[6], ARGV[4]) end
return 1
`

const CREATE = `
local p = ARGV[1]
if redis.call('SCARD', p .. 'owner:' .. ARGV[2]) >= tonumber(ARGV[5]) then return 0 end
redis.call('HSET', p .. 'hooks', ARGV[3], ARGV[4])
redis.call('SADD', p .. 'owner:' .. ARGV[2], ARGV[3])
return 1
`

/**
 * Saves a webhook that exists; when this enables it, each of its queues is due at its head's next attempt
 * again. Saving a webhook that was enabled already (a failure recorded, a copy followed, a secret rotated)
 * leaves its queues' scores alone: a queue whose head is claimed keeps its claim's end, or another replica
 * would send the delivery being sent.
 */
const UPDATE = RESCORE + `
local p = ARGV[1]
local before = redis.call('HGET', p .. 'hooks', ARGV[2])
if not before then return 0 end
redis.call('HSET', p .. 'hooks', ARGV[2], ARGV[3])
if ARGV[4] == '1' and cjson.decode(before).enabled == false then
  for _, name in ipairs(redis.call('SMEMBERS', p .. 'wq:' .. ARGV[2])) do rescore(p, name, tonumber(ARGV[5])) end
end
return 1
`

const DELETE = `
local p = ARGV[1]
local json = redis.call('HGET', p .. 'hooks', ARGV[2])
if not json then return 0 end
redis.call('HDEL', p .. 'hooks', ARGV[2])
redis.call('SREM', p .. 'owner:' .. cjson.decode(json).owner, ARGV[2])
for _, name in ipairs(redis.call('SMEMBERS', p .. 'wq:' .. ARGV[2])) do
  for _, id in ipairs(redis.call('LRANGE', p .. 'q:' .. name, 0, -1)) do
    redis.call('ZREM', p .. 'pending', id)
    redis.call('DEL', p .. 'd:' .. id)
  end
  redis.call('DEL', p .. 'q:' .. name)
  redis.call('ZREM', p .. 'queues', name)
end
for _, id in ipairs(redis.call('LRANGE', p .. 'log:' .. ARGV[2], 0, -1)) do redis.call('DEL', p .. 'd:' .. id) end
redis.call('DEL', p .. 'wq:' .. ARGV[2], p .. 'log:' .. ARGV[2])
return 1
`

const queueOf = (delivery: Delivery): string => `${delivery.webhookId}|${delivery.resource}`

export class RedisWebhookStore implements WebhookStore {
  readonly durable = true
  private readonly prefix: string
  /** Deliveries queued while Redis was down, oldest first: written when it answers again. */
  private readonly buffer: Delivery[] = []

  constructor (
    private readonly link: RedisLink,
    private readonly maxPending: number,
    private readonly logLimit: number,
    private readonly now: () => number
  ) {
    this.prefix = link.key('webhooks:')
  }

  /** Deliveries kept in this process until Redis answers. */
  get buffered (): number {
    return this.buffer.length
  }

  async create (webhook: Webhook, maxPerOwner: number): Promise<boolean> {
    return await this.run(async (redis) => await redis.eval(CREATE, 0, this.prefix, webhook.owner, webhook.id, JSON.stringify(webhook), maxPerOwner)) === 1
  }

  async get (id: string): Promise<Webhook | null> {
    const json = await this.run(async (redis) => await redis.hget(`${this.prefix}hooks`, id))
    return json === null ? null : JSON.parse(json) as Webhook
  }

  async list (owner: string): Promise<Webhook[]> {
    const ids = await this.run(async (redis) => await redis.smembers(`${this.prefix}owner:${owner}`))
    if (ids.length === 0) return []
    const values = await this.run(async (redis) => await redis.hmget(`${this.prefix}hooks`, ...ids))
    return values.flatMap((json) => json === null ? [] : [JSON.parse(json) as Webhook])
  }

  async all (): Promise<Webhook[]> {
    return (await this.run(async (redis) => await redis.hvals(`${this.prefix}hooks`))).map((json) => JSON.parse(json) as Webhook)
  }

  async update (webhook: Webhook): Promise<void> {
    await this.run(async (redis) => await redis.eval(UPDATE, 0, this.prefix, webhook.id, JSON.stringify(webhook), webhook.enabled ? '1' : '0', this.now()))
  }

  async delete (id: string): Promise<boolean> {
    return await this.run(async (redis) => await redis.eval(DELETE, 0, this.prefix, id)) === 1
  }

  async enqueue (delivery: Delivery): Promise<boolean> {
    if (this.buffer.length > 0 || !this.link.up) return this.keep(delivery)
    try {
      return await this.write(delivery)
    } catch (err) {
      if (!(err instanceof RedisUnavailable)) throw err
      return this.keep(delivery)
    }
  }

  async claimDue (now: number, limit: number, leaseMs: number): Promise<DueDelivery[]> {
    if (!this.link.up) return []
    await this.flush()
    const reply = await this.run(async (redis) => await redis.eval(CLAIM, 0, this.prefix, now, limit, leaseMs, DISABLED_RETRY_MS)) as string[]
    const due: DueDelivery[] = []
    for (let i = 0; i + 1 < reply.length; i += 2) {
      due.push({ delivery: JSON.parse(reply[i] as string) as Delivery, webhook: JSON.parse(reply[i + 1] as string) as Webhook })
    }
    return due
  }

  async release (id: string): Promise<void> {
    const json = await this.run(async (redis) => await redis.get(`${this.prefix}d:${id}`))
    if (json === null) return
    const delivery = JSON.parse(json) as Delivery
    await this.run(async (redis) => await redis.zadd(`${this.prefix}queues`, 'XX', this.now(), queueOf(delivery)))
  }

  async finish (delivery: Delivery): Promise<void> {
    const pending = delivery.state === 'pending'
    await this.run(async (redis) => await redis.eval(
      FINISH, 0, this.prefix, delivery.id, JSON.stringify(delivery), queueOf(delivery), pending ? '1' : '0', this.now(), KEPT_MS
    ))
  }

  async requeue (delivery: Delivery): Promise<boolean> {
    const reply = await this.run(async (redis) => await redis.eval(
      REQUEUE, 0, this.prefix, delivery.id, JSON.stringify(delivery), queueOf(delivery), delivery.webhookId,
      delivery.nextAttemptAt ?? this.now(), delivery.createdAt, this.maxPending
    ))
    if (reply === -1) throw this.full()
    return reply === 1
  }

  async deliveries (webhookId: string, limit: number): Promise<Delivery[]> {
    const ids = await this.run(async (redis) => await redis.lrange(`${this.prefix}log:${webhookId}`, 0, limit - 1))
    if (ids.length === 0) return []
    const values = await this.run(async (redis) => await redis.mget(...ids.map((id) => `${this.prefix}d:${id}`)))
    return values.flatMap((json) => json === null ? [] : [JSON.parse(json) as Delivery])
  }

  async delivery (webhookId: string, id: string): Promise<Delivery | null> {
    const json = await this.run(async (redis) => await redis.get(`${this.prefix}d:${id}`))
    const delivery = json === null ? null : JSON.parse(json) as Delivery
    return delivery?.webhookId === webhookId ? delivery : null
  }

  async backlog (): Promise<{ pending: number, oldestCreatedAt: number | null }> {
    const [count, oldest] = await this.run(async (redis) => await Promise.all([
      redis.zcard(`${this.prefix}pending`),
      redis.zrange(`${this.prefix}pending`, 0, 0, 'WITHSCORES')
    ]))
    const buffered = this.buffer[0]?.createdAt ?? null
    const stored = oldest[1] === undefined ? null : Number(oldest[1])
    const oldestCreatedAt = stored === null ? buffered : buffered === null ? stored : Math.min(stored, buffered)
    return { pending: count + this.buffer.length, oldestCreatedAt }
  }

  async nextDue (): Promise<number | null> {
    if (this.buffer.length > 0) return this.now()
    const first = await this.run(async (redis) => await redis.zrange(`${this.prefix}queues`, 0, 0, 'WITHSCORES'))
    return first[1] === undefined ? null : Number(first[1])
  }

  async close (): Promise<void> {}

  private async write (delivery: Delivery): Promise<boolean> {
    const pending = delivery.state === 'pending'
    const reply = await this.link.run(async (redis) => await redis.eval(
      ENQUEUE, 0, this.prefix, delivery.id, delivery.webhookId, JSON.stringify(delivery), queueOf(delivery),
      delivery.nextAttemptAt ?? this.now(), delivery.createdAt, this.logLimit, pending ? '1' : '0', KEPT_MS, this.maxPending
    ))
    if (reply === -1) throw this.full()
    return reply === 1
  }

  private full (): StoreFull {
    return new StoreFull(`${this.maxPending} deliveries are pending already (WEBHOOKS_MAX_PENDING)`)
  }

  private keep (delivery: Delivery): boolean {
    if (this.buffer.length >= this.maxPending) {
      throw new StoreFull(`Redis is down and ${this.maxPending} deliveries wait for it already (WEBHOOKS_MAX_PENDING)`)
    }
    this.buffer.push(delivery)
    return true
  }

  /** Writes what was kept while Redis was down, oldest first; stops at the first failure. */
  private async flush (): Promise<void> {
    while (this.buffer.length > 0) {
      const next = this.buffer[0] as Delivery
      try {
        await this.write(next)
      } catch (err) {
        if (err instanceof RedisUnavailable) return
        throw err
      }
      this.buffer.shift()
    }
  }

  private async run<R> (command: (redis: RedisLink['commands']) => Promise<R>): Promise<R> {
    try {
      return await this.link.run(command)
    } catch (err) {
      if (err instanceof RedisUnavailable) throw new StoreUnavailable(err.message)
      throw err
    }
  }
}
