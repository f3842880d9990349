import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../../config.js'
import { registerCachedAnswers } from './cached-answers.js'
import { doorFormatting, handleRequestErrorWith, refuse } from './error-answers.js'
import { registerHttpAuth } from './authentication.js'
import { registerCsrfPrevention } from './csrf.js'
import { registerMediaTypes } from './media-type.js'
import { operationHandler } from './operation-route.js'
import { registerOperationRecords } from './operation-records.js'
import { GET_SCHEMA, POST_SCHEMA, readParameters, registerParameterChecks } from './parameters.js'
import { registerSharedExecutions } from './shared-executions.js'
import { registerConditionalGet } from './conditional-get.js'
import { ResponseCache } from './response-cache.js'

/*
 * GraphQL over HTTP at /graphql (GET and POST): an adapter of the GraphQL over HTTP protocol to the
 * operation pipeline (app.pipeline, src/graphql/pipeline), as the WebSocket and SSE doors are. An
 * encapsulated plugin: its serializer, error handler and hooks apply to its own routes only, never
 * to health probes or GraphiQL. It authenticates with `app.auth`. A GET or POST that prefers
 * `text/event-stream` is served by the SSE door (src/transports/sse/event-stream-route.ts).
 */

export interface GraphqlHttpOptions {
  responseCache: Config['responseCache']
  /** Tests only: the response cache's clock (milliseconds); performance.now by default. */
  clock?: () => number
}

const graphqlHttp: FastifyPluginAsync<GraphqlHttpOptions> = async (app, { responseCache, clock }) => {
  const { auth, graph, pipeline } = app
  // Answers are plain objects (or a shared execution's text): JSON.stringify serialises them faithfully.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data))
  // With introspection off, error messages do not suggest the schema's names either.
  const formatting = doorFormatting({ hideSuggestions: !graph.introspection })
  app.setErrorHandler(handleRequestErrorWith(formatting))
  // The document alone, as GraphQL over HTTP allows: read as the body's "query".
  app.addContentTypeParser('application/graphql', { parseAs: 'string' }, (_request, body, done) => { done(null, { query: body }) })
  // First of this plugin's hooks: every request to /graphql is one operation for logs and metrics.
  registerOperationRecords(app, pipeline, app.operations.tracing)

  // Hooks of one kind run in the order they are added here: the media type and CSRF prevention
  // (onRequest), authentication (onRequest, preParsing, preHandler), the parameter checks (preValidation).
  registerMediaTypes(app)
  registerCsrfPrevention(app)
  registerHttpAuth(app, auth, graph.limits.maxTokens, graph.introspection, (request) => readParameters(request, graph.trusted).text)
  registerParameterChecks(app, graph.limits, async (request, reply, errors) => await refuse(request, reply, errors, formatting))
  // Identical queries in flight share one execution.
  const join = registerSharedExecutions(app, auth)
  // Identical queries within RESPONSE_CACHE_TTL_MS: the answer kept (its onSend before the conditional GET's, which may empty the body).
  const cache = responseCache.ttlMs === 0 ? null : new ResponseCache({ ...responseCache, ...(clock === undefined ? {} : { now: clock }) })
  const cached = registerCachedAnswers(app, auth, cache, (result) => { app.metrics.responseCache.inc({ result }) })
  if (cache !== null) {
    app.metrics.watchResponseCache(() => cache.bytes)
    // Writes through the gateway (this replica's, and with Redis the others'), and the changes pollers see, whatever the scope.
    // A write whose outcome is unknown names its task only (its dataset was never read): everything goes.
    const stopWrites = app.invalidations.subscribe(({ datasetIds, taskIds }) => {
      if (datasetIds.length === 0 && taskIds.length > 0) cache.clear()
      else cache.drop(datasetIds)
    })
    const stopChanges = app.live.onChange((datasetId) => { cache.drop([datasetId]) })
    app.addHook('onClose', async () => {
      stopWrites()
      stopChanges()
      cache.clear()
    })
  }
  // A GET's result without errors: an ETag, and 304 when the client has it (after the shared executions' onSend, which settles on the full body).
  registerConditionalGet(app)

  const handler = operationHandler({ auth, pipeline, trusted: graph.trusted, maxCost: graph.limits.maxCost, formatting, join, cached })
  // attachValidation: a parameter of the wrong type is refused by the handler, after the checks that name the request's other problems.
  app.get('/graphql', { schema: GET_SCHEMA, attachValidation: true }, handler)
  app.post('/graphql', { schema: POST_SCHEMA, attachValidation: true }, handler)
}

export default fp(graphqlHttp, {
  name: 'graphql-http',
  encapsulate: true,
  decorators: { fastify: ['auth', 'graph', 'operations', 'pipeline', 'invalidations', 'live', 'metrics'] }
})
