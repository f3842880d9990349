import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import mercurius from 'mercurius'
import { GatewayError } from '../../errors.js'
import type { GatewayContext } from '../../graphql/context.js'
import { errorFormatterWith, handleRequestErrorWith } from './error-answers.js'
import { noSubscriptionOverHttp } from '../../graphql/limits.js'
import { abortOnLeave } from '../authenticate.js'
import { callerOfRequest, registerCallerRateLimits } from '../rate-limits.js'
import { registerHttpAuth } from './authentication.js'
import { registerCsrfPrevention } from './csrf.js'
import { operationNameOf, registerDocumentChecks } from './document-checks.js'
import { registerOperationRecords } from './operation-records.js'
import { registerMediaTypes } from './media-type.js'
import { registerOperationCost } from './operation-cost.js'
import { registerSharedExecutions } from './shared-executions.js'

/*
 * GraphQL over HTTP at /graphql (GET and POST), served by Mercurius. An encapsulated plugin: its
 * serializer, error handler, hooks and rate limit apply to its own routes only, never to health
 * probes or GraphiQL. It serves `app.graph` and authenticates with `app.auth`.
 */

export interface GraphQLHttpOptions {
  /** Requests per minute for each caller (queries, and whatever is not a mutation); 0: no limit. */
  rateLimitPerMinute: number
  /** Mutation requests per minute for each caller, counted apart; 0: they count as queries do. */
  rateLimitMutationsPerMinute: number
  /** Requests per minute in each lane of unproven passthrough tokens (see callerKey); 0: they count as queries do. */
  rateLimitUnprovenPerMinute: number
}

/**
 * Documents Mercurius keeps parsed, validated and compiled (QuickLRU: up to twice as many). A count, not
 * bytes: a syntax tree of MAX_QUERY_TOKENS (3,000) tokens takes about 1.6 MB, so this bounds the cache
 * at about 50 MB under a flood of unique maximal documents, and holds the operations of a typical app.
 */
const MERCURIUS_CACHE_ENTRIES = 16

const graphqlHttp: FastifyPluginAsync<GraphQLHttpOptions> = async (app, options) => {
  const { auth, graph } = app
  // Mercurius' response schema types every error path item as a string; GraphQL says list indices
  // are integers. Its answers are plain objects, so JSON.stringify serialises them faithfully.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data))
  // With introspection off, error messages do not suggest the schema's names either.
  const formatting = { hideSuggestions: !graph.introspection }
  app.setErrorHandler(handleRequestErrorWith(formatting))
  // First of this plugin's hooks: every request to /graphql is one operation for logs and metrics.
  registerOperationRecords(app, app.operations)

  // Hooks of one kind run in the order they are added here: the media type and CSRF prevention
  // (onRequest), authentication (onRequest, preParsing, preHandler), then the document checks
  // (preValidation, preHandler), then the rate limit, which Mercurius' routes get as their own
  // preHandler and so runs after this plugin's, when the caller is known.
  registerMediaTypes(app)
  registerCsrfPrevention(app)
  registerHttpAuth(app, auth, graph.limits.maxTokens, graph.introspection)
  registerDocumentChecks(app, graph.schema, graph.limits, graph.trusted, formatting, callerOfRequest(auth))
  // Two counters per caller: mutations against their own, stricter allowance (see rate-limits.ts).
  await registerCallerRateLimits(app, auth, options, { prefix: '', isWrite: (request) => request.operationType === 'mutation', writes: 'mutations' })
  // After the rate limit (the route's last preHandler): identical queries in flight share one execution.
  registerSharedExecutions(app, auth)

  await app.register(mercurius, {
    schema: graph.schema,
    path: '/graphql',
    graphiql: false,
    errorFormatter: errorFormatterWith(formatting),
    // Mercurius' own handler first builds an operation context, which refuses a request whose
    // caller is not known yet (a body refused before authentication) and would answer it with a 500.
    errorHandler: false,
    // Already checked by the document checks; Mercurius runs graphql's own rules once more per new text.
    validationRules: [...graph.limits.rules, noSubscriptionOverHttp],
    // Parsed and validated documents by their text, so that a repeated document is neither parsed nor
    // validated again (validation costs about a fifth of the CPU of a small query), and compiled (graphql-jit)
    // from its second use. Only valid documents reach Mercurius (document-checks.ts validated them),
    // each at most MAX_QUERY_TOKENS tokens long, so its cache of refusals stays empty and its cache of
    // documents holds at most twice MERCURIUS_CACHE_ENTRIES (QuickLRU keeps two generations).
    cache: MERCURIUS_CACHE_ENTRIES,
    jit: 1,
    graphql: { parseOptions: { maxTokens: graph.limits.maxTokens } },
    context: (request: FastifyRequest, reply: FastifyReply): GatewayContext => {
      if (request.caller === null) throw new GatewayError('UNAUTHENTICATED', 'The request was not authenticated.')
      const context = app.domain.context(request.caller, String(request.id), abortOnLeave(reply.raw))
      request.operation?.attach(context)
      return context
    }
  })
  app.graphql.addHook('preExecution', async (_schema, document, context) => {
    const { request } = context.reply
    request.operation?.identify(document, operationNameOf(request))
    // The operation's span starts here, named, before any resolver opens its own under it.
    request.operation?.traceContext()
  })
  registerOperationCost(app, graph.limits)
}

export default fp(graphqlHttp, { name: 'graphql-http', encapsulate: true, decorators: { fastify: ['auth', 'domain', 'graph', 'operations'] } })
