import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { isGatewayError } from '../errors.js'

/*
 * Liveness: the process answers. Readiness: Visual Layer answers its health check. The readiness
 * result is reused for `cacheMs`, and concurrent probes share one check, so probes never load
 * the upstream however often they come. While the gateway sheds load (src/plugins/load-shedding.ts),
 * readiness says so with 503 and liveness still answers. With REDIS_URL, readiness also reports Redis,
 * and says "degraded" (still 200) while Redis does not answer.
 * An encapsulated plugin asking `app.visualLayer`.
 */

export interface HealthOptions {
  cacheMs: number
  /** Retry-After of a readiness answer while the gateway sheds load. */
  retryAfterSec: number
  now?: () => number
}

interface Readiness {
  ready: boolean
  body: Record<string, unknown>
}

const health: FastifyPluginAsync<HealthOptions> = async (app, options) => {
  const { visualLayer } = app
  const now = options.now ?? (() => performance.now())
  // `at` is when the check settled; while a check is pending every probe waits for it.
  let cached: { at: number | null, result: Promise<Readiness> } | null = null

  const check = async (requestId: string): Promise<Readiness> => {
    try {
      const health = await visualLayer.healthcheck({ requestId })
      return { ready: true, body: { status: 'ready', upstream: { status: health.status, version: health.version ?? null } } }
    } catch (err) {
      const code = isGatewayError(err) ? err.code : 'INTERNAL_SERVER_ERROR'
      app.log.warn({ requestId, code }, 'readiness check: Visual Layer did not answer its health check')
      return { ready: false, body: { status: 'unavailable', reason: 'Visual Layer did not answer its health check', code } }
    }
  }

  // Both probes pass load shedding: liveness is answered whatever the load, readiness says why it is not ready.
  const letThrough = { pressureHandler: () => undefined }
  app.get('/health/live', { config: letThrough }, async () => ({ status: 'live' }))

  app.get('/health/ready', { config: letThrough }, async (request, reply) => {
    if (app.isUnderPressure()) {
      return reply.code(503).header('retry-after', String(options.retryAfterSec)).send({
        status: 'unavailable',
        reason: 'The gateway is overloaded and sheds new requests',
        code: 'RATE_LIMITED'
      })
    }
    if (cached === null || (cached.at !== null && now() - cached.at >= options.cacheMs)) {
      const entry: { at: number | null, result: Promise<Readiness> } = { at: null, result: check(String(request.id)) }
      void entry.result.then(() => { entry.at = now() })
      cached = entry
    }
    const result = await cached.result
    if (app.redis === null) return reply.code(result.ready ? 200 : 503).send(result.body)
    // Redis down or stalled leaves the replica ready but degraded (200): it serves everything but
    // writes with an idempotency key, and every other replica shares the same Redis, so taking it out
    // of rotation would only move its load onto replicas that are just as degraded.
    const redis = await redisStatus(app.redis)
    const body = result.ready && redis.status === 'down' ? { ...result.body, status: 'degraded' } : result.body
    return reply.code(result.ready ? 200 : 503).send({ ...body, redis })
  })
}

/** What the link knows now (a ping within its deadline when it thinks Redis up): never a longer wait. */
async function redisStatus (link: NonNullable<FastifyInstance['redis']>): Promise<Record<string, string>> {
  const answer = await link.check()
  return answer.up ? { status: 'up' } : { status: 'down', reason: answer.outage.reason, since: answer.outage.since.toISOString() }
}

export default fp(health, { name: 'health', encapsulate: true, decorators: { fastify: ['visualLayer', 'isUnderPressure', 'redis'] } })
