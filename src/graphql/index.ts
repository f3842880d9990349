import type { Caller } from '../auth/index.js'
import { CallBudget } from '../upstream/call-budget.js'
import type { Credential, VisualLayerClient } from '../upstream/client.js'
import type { Invalidations } from '../domain/live/invalidation.js'
import type { LiveRegistry } from '../domain/live/registry.js'
import type { GatewayContext } from './context.js'
import type { EnrichOutcome } from '../domain/enrichment/enrich.js'
import type { IdempotencyRecords } from '../domain/enrichment/idempotency.js'
import { createLoaders } from './loaders.js'
import type { UnknownValueReporter } from '../domain/mapping/values.js'

/*
 * The context of one operation, the same for every door (GraphQL over HTTP, WebSocket and SSE, REST
 * and its event stream). The executable schema
 * is built in schema.ts; the doors themselves are in src/transports.
 */

export interface GraphQLOptions {
  vl: VisualLayerClient
  scopeOf: (credential: Credential) => string
  invalidations: Invalidations
  live: LiveRegistry
  idempotency: IdempotencyRecords<EnrichOutcome>
  onUnknown: UnknownValueReporter
  /** Most upstream GETs one operation runs at once. */
  batchConcurrency: number
  /** Most upstream requests one operation sends, whichever door it came through. */
  maxCallsPerOperation: number
}

export type ContextFactory = (caller: Caller, requestId: string, signal: AbortSignal) => GatewayContext

/** Builds the context of one operation: its caller, its upstream call options and fresh loaders. */
export function contextFactory (options: GraphQLOptions): ContextFactory {
  return (caller, requestId, signal) => {
    const call = { credential: caller.credential, requestId, signal, budget: new CallBudget(options.maxCallsPerOperation) }
    const scope = (): string => options.scopeOf(caller.credential)
    return {
      caller,
      requestId,
      call,
      vl: options.vl,
      loaders: createLoaders(options.vl, call, options.batchConcurrency),
      live: options.live,
      idempotency: options.idempotency,
      onUnknown: options.onUnknown,
      scope,
      invalidate: (datasetIds, taskIds) => {
        options.vl.forgetInFlight(scope(), datasetIds)
        options.invalidations.publish({ scope: scope(), datasetIds, taskIds })
      }
    }
  }
}
