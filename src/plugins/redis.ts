import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import type { RedisSettings } from '../config.js'
import { RedisLink } from '../cluster/redis.js'
import { RedisSlots } from '../cluster/slots.js'
import { RedisWindows } from '../cluster/windows.js'
import type { SharedSlots } from '../transports/caller-slots.js'
import type { SharedWindows } from '../transports/allowance-windows.js'

/*
 * `app.redis`: the link to Redis shared by the replicas of a cluster, or null when REDIS_URL is
 * unset (everything stays in this process). Closed after everything that uses it.
 * `app.sharedState`: the stores the doors share with the other replicas, chosen here once: on Redis,
 * or none (each door then counts in this process alone). No door imports src/cluster.
 */

export interface SharedState {
  /** A caller's slots in `pool` (one pool per door) over every replica, or null: counted by this replica alone. */
  slots: (pool: string) => SharedSlots | null
  /** Rate-limit windows over every replica, or null: counted by this replica alone. */
  readonly windows: SharedWindows | null
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
    app.decorate('sharedState', { slots: () => null, windows: null })
    return
  }
  const link = new RedisLink({ ...settings, url }, app.log.child({ component: 'redis' }), { timeout: () => { app.metrics.redisTimeouts.inc() } })
  app.decorate('redis', link)
  app.decorate('sharedState', { slots: (pool: string) => new RedisSlots(link, pool), windows: new RedisWindows(link) })
  app.metrics.watchRedis(() => link.outage !== null)
  // Start-up waits a little for Redis but never fails on it: each feature falls back as documented
  // (the link logs the outage).
  await link.connected(2_000)
  app.addHook('onClose', async () => { await link.close() })
}

export default fp(redisPlugin, { name: 'redis', decorators: { fastify: ['metrics'] } })
