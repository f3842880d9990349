import underPressure from '@fastify/under-pressure'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { LoadShedding } from '../config.js'

/*
 * Load shedding with @fastify/under-pressure: while the event loop lags more than
 * LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS, or the heap holds more than LOAD_SHED_MAX_HEAP_USED_BYTES, new
 * requests are answered at once with 503, Retry-After and one RATE_LIMITED error in the gateway's
 * shape (back off and retry: the caller is not at fault, nor is Visual Layer). Requests already
 * admitted run to their end. `/health/live` is never shed (the process is alive: restarting it would
 * not help), and `/health/ready` answers 503 itself, so a balancer stops sending traffic. Decorates
 * `app.isUnderPressure()` (always, even with both limits off) for the doors Fastify does not route
 * (the WebSocket upgrade).
 */

declare module 'fastify' {
  interface FastifyContextConfig {
    /** under-pressure's per-route handler: returning nothing lets the request through. */
    pressureHandler?: (request: FastifyRequest, reply: FastifyReply, type: string, value: number | undefined) => unknown
  }
}

export interface LoadSheddingOptions {
  settings: LoadShedding
  /** Tests only: pressure decided by the test instead of measured (checked every 10 ms). */
  pressure?: () => boolean
}

/** The shed answer's body, as every other refusal of the gateway. */
export function shedBody (requestId: string, retryAfterSec: number): Record<string, unknown> {
  return {
    data: null,
    errors: [{
      message: `The gateway is overloaded and refuses new requests for now; try again in ${retryAfterSec} s.`,
      extensions: { code: 'RATE_LIMITED', requestId }
    }]
  }
}

const loadShedding: FastifyPluginAsync<LoadSheddingOptions> = async (app, { settings, pressure }) => {
  await app.register(underPressure, {
    maxEventLoopDelay: settings.maxEventLoopDelayMs,
    maxHeapUsedBytes: settings.maxHeapUsedBytes,
    retryAfter: settings.retryAfterSec,
    ...(pressure === undefined ? {} : { healthCheck: async () => !pressure(), healthCheckInterval: 10 }),
    pressureHandler: (request, reply, type, value) => {
      request.log.info({ pressure: type, value }, 'request shed: the gateway is under pressure')
      reply.code(503).header('retry-after', String(settings.retryAfterSec))
      // A value returned is sent as the answer; the request goes no further.
      return shedBody(String(request.id), settings.retryAfterSec) as never
    }
  })
  app.metrics.watchShedding(() => app.isUnderPressure())
}

export default fp(loadShedding, { name: 'load-shedding', decorators: { fastify: ['metrics'] } })
