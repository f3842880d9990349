import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import type { RedisSettings } from '../config.js'
import { RedisLink } from '../cluster/redis.js'

/*
 * `app.redis`: the link to Redis shared by the replicas of a cluster, or null when REDIS_URL is
 * unset (everything stays in this process). Closed after everything that uses it.
 */

declare module 'fastify' {
  interface FastifyInstance {
    redis: RedisLink | null
  }
}

export interface RedisPluginOptions {
  settings: RedisSettings
}

const redisPlugin: FastifyPluginAsync<RedisPluginOptions> = async (app, { settings }) => {
  const { url } = settings
  if (url === null) {
    app.decorate('redis', null)
    return
  }
  const link = new RedisLink({ ...settings, url }, app.log.child({ component: 'redis' }), { timeout: () => { app.metrics.redisTimeouts.inc() } })
  app.decorate('redis', link)
  app.metrics.watchRedis(() => link.outage !== null)
  // Start-up waits a little for Redis but never fails on it: each feature falls back as documented
  // (the link logs the outage).
  await link.connected(2_000)
  app.addHook('onClose', async () => { await link.close() })
}

export default fp(redisPlugin, { name: 'redis', decorators: { fastify: ['metrics'] } })
