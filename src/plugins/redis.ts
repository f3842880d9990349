import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import type { RedisSettings } from '../config.js'
import { Channels } from '../cluster/channels.js'
import { RedisIdempotencyStore } from '../cluster/idempotency.js'
import { shareInvalidations } from '../cluster/invalidations.js'
import { LiveLeases } from '../cluster/live-leases.js'
import { LiveRuns } from '../cluster/live-runs.js'
import { RedisLink } from '../cluster/redis.js'
import { RedisSlots } from '../cluster/slots.js'
import { RedisWebhookStore } from '../cluster/webhooks.js'
import { RedisWindows } from '../cluster/windows.js'
import { IdempotencyStore, type IdempotencyRecords } from '../domain/enrichment/idempotency.js'
import type { LiveSharing } from '../domain/live/cluster-sharing.js'
import type { LiveTime } from '../domain/live/time.js'
import type { WebhookTime } from '../domain/webhooks/model.js'
import { MemoryWebhookStore, type WebhookStore } from '../domain/webhooks/store.js'
import type { SharedSlots } from '../transports/caller-slots.js'
import type { SharedWindows } from '../transports/allowance-windows.js'

/*
 * `app.redis`: the link to Redis shared by the replicas of a cluster, or null when REDIS_URL is
 * unset (everything stays in this process). Closed after everything that uses it.
 * `app.sharedState`: every store the replicas share, chosen here once: on Redis, or in this process
 * alone. The plugins and doors that use them take them from here; no other place imports src/cluster.
 * The stores that hold resources (the idempotency records, the pollers' leases) are made by their
 * user's plugin when it starts, so that each is closed with it.
 */

export interface IdempotencyWindow {
  windowMs: number
  /** How long a duplicate waits for the first call before giving up (on Redis; in this process it waits for the call itself). */
  maxWaitMs: number
}

export interface SharedState {
  /** A caller's slots in `pool` (one pool per door) over every replica, or null: counted by this replica alone. */
  slots: (pool: string) => SharedSlots | null
  /** Rate-limit windows over every replica, or null: counted by this replica alone. */
  readonly windows: SharedWindows | null
  /** The records that make an enrichment happen once per key, over every replica or in this process. */
  idempotency: <T>(window: IdempotencyWindow) => IdempotencyRecords<T>
  /**
   * The pollers' leases and the invalidations' bridge over every replica (polling every `intervalMs`,
   * a settled resource down to every `maxIntervalMs`, the leases' heartbeat on `time`, the process's
   * own when absent), or null: this replica polls alone.
   */
  live: ((intervalMs: number, maxIntervalMs: number, time?: LiveTime) => LiveSharing) | null
  /** Webhooks, their pending deliveries and their logs: over every replica, kept across restarts, or in this process alone. */
  webhooks: (options: WebhookStoreOptions) => WebhookStore
}

export interface WebhookStoreOptions {
  /** Deliveries pending at once (in this process; on Redis, the buffer of those queued while it is down). */
  maxPending: number
  /** Deliveries kept in each webhook's log. */
  logLimit: number
  time: WebhookTime
}

declare module 'fastify' {
  interface FastifyInstance {
    redis: RedisLink | null
    sharedState: SharedState
  }
}

export interface RedisPluginOptions {
  settings: RedisSettings
}

const redisPlugin: FastifyPluginAsync<RedisPluginOptions> = async (app, { settings }) => {
  const { url } = settings
  if (url === null) {
    app.decorate('redis', null)
    app.decorate('sharedState', {
      slots: () => null,
      windows: null,
      idempotency: <T>({ windowMs }: IdempotencyWindow) => new IdempotencyStore<T>({ windowMs }),
      live: null,
      webhooks: ({ maxPending, logLimit, time }: WebhookStoreOptions) => new MemoryWebhookStore(maxPending, logLimit, time.now)
    } satisfies SharedState)
    return
  }
  const link = new RedisLink({ ...settings, url }, app.log.child({ component: 'redis' }), { timeout: () => { app.metrics.redisTimeouts.inc() } })
  app.decorate('redis', link)
  app.decorate('sharedState', {
    slots: (pool: string) => new RedisSlots(link, pool),
    windows: new RedisWindows(link),
    idempotency: <T>(window: IdempotencyWindow) => new RedisIdempotencyStore<T>(link, window, app.log.child({ component: 'idempotency' })),
    live: (intervalMs: number, maxIntervalMs: number, time?: LiveTime) => {
      const log = app.log.child({ component: 'live' })
      const channels = new Channels(link)
      const leases = new LiveLeases(link, channels, intervalMs, log, time, maxIntervalMs)
      return {
        leases,
        runs: new LiveRuns(link, channels, leases.me),
        get up () { return link.up },
        bridge: (invalidations, vl, writtenMs) => shareInvalidations(link, channels, invalidations, vl, log, writtenMs)
      }
    },
    webhooks: ({ maxPending, logLimit, time }: WebhookStoreOptions) => new RedisWebhookStore(link, maxPending, logLimit, time.now)
  } satisfies SharedState)
  app.metrics.watchRedis(() => link.outage !== null)
  // Start-up waits a little for Redis but never fails on it: each feature falls back as documented
  // (the link logs the outage).
  await link.connected(2_000)
  app.addHook('onClose', async () => { await link.close() })
}

export default fp(redisPlugin, { name: 'redis', decorators: { fastify: ['metrics'] } })
