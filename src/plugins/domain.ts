import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import type { Caller } from '../auth/index.js'
import type { Config } from '../config.js'
import type { EnrichOutcome } from '../domain/enrichment/enrich.js'
import type { IdempotencyRecords } from '../domain/enrichment/idempotency.js'
import type { GatewayContext } from '../graphql/context.js'
import { createLoaders } from '../graphql/loaders.js'
import { CallBudget } from '../upstream/call-budget-ledger.js'

/*
 * The context of one operation (`app.domain.context`), the same for every door: its caller, its
 * upstream call options (credential, request id, cancellation, call budget), per-request readers,
 * the pollers, and one idempotency store, so that an enrichment is the same whichever door it came
 * through (and, with REDIS_URL, whichever replica).
 */

export type ContextFactory = (caller: Caller, requestId: string, signal: AbortSignal) => GatewayContext

export interface Domain {
  readonly context: ContextFactory
}

declare module 'fastify' {
  interface FastifyInstance {
    domain: Domain
  }
}

export interface DomainPluginOptions {
  config: Pick<Config, 'upstream' | 'idempotencyWindowMs'>
}

const domainPlugin: FastifyPluginAsync<DomainPluginOptions> = async (app, { config }) => {
  const { visualLayer: vl, live, invalidations } = app
  const { scopes } = app.auth
  const reported = new Set<string>()
  const onUnknown = (kind: string, value: string): void => {
    const key = `${kind}\u0000${value}`
    if (reported.has(key)) return
    reported.add(key)
    app.log.warn({ kind, value: value.slice(0, 100) }, `Visual Layer sent a ${kind} this gateway does not know; it is shown as UNKNOWN`)
  }
  // Shared by the replicas when REDIS_URL is set (app.sharedState). A duplicate waits for the first call at
  // most as long as that call's reads and its write may take.
  const idempotency: IdempotencyRecords<EnrichOutcome> = app.sharedState.idempotency<EnrichOutcome>({
    windowMs: config.idempotencyWindowMs,
    maxWaitMs: 4 * config.upstream.timeoutMs + 5_000
  })

  const context: ContextFactory = (caller, requestId, signal) => {
    const call = { credential: caller.credential, requestId, signal, budget: new CallBudget(config.upstream.maxCallsPerOperation) }
    const scope = (): string => scopes.scopeOf(caller.credential)
    return {
      caller,
      requestId,
      call,
      vl,
      loaders: createLoaders(vl, call, config.upstream.batchConcurrency),
      live,
      idempotency,
      onUnknown,
      scope,
      invalidate: (datasetIds, taskIds) => {
        vl.forgetInFlight(scope(), datasetIds)
        invalidations.publish({ scope: scope(), datasetIds, taskIds })
      }
    }
  }
  app.decorate('domain', { context })
}

export default fp(domainPlugin, { name: 'domain', decorators: { fastify: ['auth', 'visualLayer', 'live', 'invalidations', 'sharedState'] } })
