import { setMaxListeners } from 'node:events'
import { readFileSync } from 'node:fs'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ValidationRule } from 'graphql'
import mercurius from 'mercurius'
import type { Caller } from '../auth/index.js'
import { GatewayError } from '../errors.js'
import { CallBudget } from '../upstream/call-budget.js'
import type { Credential, VisualLayerClient } from '../upstream/client.js'
import type { Invalidations } from '../live/invalidation.js'
import type { LiveRegistry } from '../live/registry.js'
import type { GatewayContext } from './context.js'
import type { DocumentLimits } from './document.js'
import { errorFormatter, handleRequestError } from './error-formatter.js'
import type { Resolvers } from './generated/types.js'
import type { EnrichOutcome } from './mutations/enrich.js'
import type { IdempotencyStore } from './mutations/idempotency.js'
import { registerDocumentChecks } from '../transports/graphql-http/document-checks.js'
import { createLoaders } from './loaders.js'
import type { UnknownValueReporter } from './mapping/values.js'
import { Dataset } from './resolvers/dataset.js'
import { Mutation } from './resolvers/mutation.js'
import { Query } from './resolvers/query.js'
import { Subscription } from './resolvers/subscription.js'
import { AppliedEnrichment, Task } from './resolvers/task.js'
import { DateTime } from './scalars.js'

/** The schema file at the project root; the same relative place from src/graphql and dist/graphql. */
export const SCHEMA_PATH = new URL('../../schema.graphql', import.meta.url)

export interface GraphQLOptions {
  vl: VisualLayerClient
  scopeOf: (credential: Credential) => string
  invalidations: Invalidations
  live: LiveRegistry
  idempotency: IdempotencyStore<EnrichOutcome>
  onUnknown: UnknownValueReporter
  /** Most upstream GETs one operation runs at once. */
  batchConcurrency: number
  /** Most upstream requests one operation sends (HTTP and WebSocket alike). */
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

export async function registerGraphQL (app: FastifyInstance, makeContext: ContextFactory, validationRules: ValidationRule[], limits: DocumentLimits): Promise<void> {
  const resolvers: Resolvers = { Query, Mutation, Dataset, Task, AppliedEnrichment }
  // Mercurius' response schema types every error path item as a string; GraphQL says list indices
  // are integers. Its answers are plain objects, so JSON.stringify serialises them faithfully.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data))
  registerDocumentChecks(app, limits)
  app.setErrorHandler(handleRequestError)
  await app.register(mercurius, {
    schema: readFileSync(SCHEMA_PATH, 'utf8'),
    resolvers: { ...resolvers, DateTime } as never,
    path: '/graphql',
    graphiql: false,
    errorFormatter,
    // Mercurius' own handler first builds an operation context, which refuses a request whose
    // caller is not known yet (a body refused before authentication): that became a 500.
    errorHandler: false,
    validationRules,
    // Its cache keeps up to 1024 documents per cache (valid ones and refused ones), keyed by their
    // whole text, bounded by count only: unique large texts fill it with gigabytes. A document under
    // the token limit parses and validates in about a millisecond, so nothing is cached.
    cache: false,
    graphql: { parseOptions: { maxTokens: limits.maxTokens } },
    context: (request: FastifyRequest, reply: FastifyReply): GatewayContext => {
      if (request.caller === null) throw new GatewayError('UNAUTHENTICATED', 'The request was not authenticated.')
      const controller = new AbortController()
      // Every upstream call of the operation listens to it; a large page makes many at once.
      setMaxListeners(0, controller.signal)
      // The caller went away before the answer: stop the upstream calls made for it.
      reply.raw.once('close', () => { if (!reply.raw.writableFinished) controller.abort() })
      return makeContext(request.caller, String(request.id), controller.signal)
    }
  })
  // Subscriptions run over graphql-ws (src/live/ws.ts), not Mercurius' own transport, so their
  // resolvers are attached to the schema here.
  const fields = app.graphql.schema.getSubscriptionType()?.getFields() ?? {}
  for (const [name, resolver] of Object.entries(Subscription)) {
    const field = fields[name]
    if (field === undefined || typeof resolver !== 'object' || resolver === null) throw new Error(`Subscription.${name} is not in the schema`)
    Object.assign(field, resolver)
  }
}
