import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { codeOfRefusal } from '../../errors.js'
import { authenticateRequest, type RefuseCaller } from '../authenticate.js'
import { forcesPreflight } from '../cross-site.js'
import { registerCallerRateLimits } from '../rate-limits.js'
import { datasetStreams, recordedByPipeline, registerDatasetEvents } from './dataset-events.js'
import { registerActions } from './actions.js'
import { registerDocs } from './docs.js'
import { openApiDocument } from './openapi.js'
import { problemCodeOf, problemFromError, problemOf, sendProblem } from './problem.js'
import { registerReads } from './reads.js'
import { sendJsonText } from './representation.js'
import { restRoutes } from './routes.js'
import { OpenApiDocument } from './document-schemas.js'
import { NoQuery } from './schemas.js'
import { registerWebhooks } from './webhooks.js'

/*
 * REST for partner services, under /v1 (registered with that prefix): resources over the same
 * domain functions as the graph, each request with the same operation context
 * (`app.domain.context`: per-request readers, the caller's credential scope, shared upstream reads).
 * Authentication is the gateway's (app.auth, every AUTH_MODE, a Bearer token); parameters are
 * checked by the zod schemas of schemas.ts before any upstream call; every answer is JSON in the
 * GraphQL contract's names, every error application/problem+json (problem.ts), every GET has an
 * ETag (representation.ts).
 */

declare module 'fastify' {
  interface FastifyContextConfig {
    /** REST: served without a token when none is sent (the OpenAPI document and its page). */
    public?: boolean
    /** REST: the route's OpenAPI operationId, its label in the metrics. */
    operationId?: string
  }
}

const CROSS_SITE_REFUSAL = 'This POST could come from another website (it has no JSON content type, and no header that makes a browser ask the gateway ' +
  'first), so it is refused to prevent cross-site request forgery; nothing was done. Send it with Content-Type: application/json (an empty body where ' +
  'the operation takes none), or with an Authorization header.'

/** A refused caller's answer, as problem+json. */
const refuseProblem: RefuseCaller = (request, reply, err) => sendProblem(reply, problemOf(err.code, err.message, String(request.id)))

export interface RestOptions {
  /** Requests a minute per caller, as for /graphql (0: no limit); writes (POST) count against rateLimitMutationsPerMinute. */
  rateLimitPerMinute: number
  rateLimitMutationsPerMinute: number
  /** Requests a minute in each lane of unproven passthrough tokens, as for /graphql. */
  rateLimitUnprovenPerMinute: number
  /** Event streams one caller may hold at once (REST_MAX_STREAMS_PER_CALLER), counted as SSE streams are. */
  maxStreamsPerCaller: number
  /** Bytes an event stream may hold unsent for a client that does not read (STREAM_MAX_BUFFERED_BYTES). */
  maxBufferedBytes: number
}

const rest: FastifyPluginAsync<RestOptions> = async (app: FastifyInstance, options) => {
  const { auth, graph } = app

  app.decorateRequest('caller', null)
  // A write a browser could have sent from another site without asking first (see cross-site.ts) does nothing: before authentication, as on /graphql.
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'POST' || forcesPreflight(request.headers)) return
    return sendProblem(reply, problemOf('BAD_USER_INPUT', CROSS_SITE_REFUSAL, String(request.id)))
  })
  // An action that takes no body may be sent as JSON with an empty one (what a client that always sets the type sends).
  const json = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString()
    if (text === '') done(null, undefined)
    // Fastify's default parser answers through done; its type also allows a parser that returns a promise instead.
    else void json(request, text, done)
  })
  app.addHook('onRequest', async (request, reply) => {
    // The document and its reference page are public when the graph's schema is (INTROSPECTION): a
    // browser loads them before anyone could set a token. A token, when sent, is still checked.
    if (request.routeOptions.config.public === true && request.headers.authorization === undefined) return
    return await authenticateRequest(auth, request, reply, refuseProblem)
  })
  // The allowances of /graphql, per caller, counted apart from its counters; POSTs are writes.
  await registerCallerRateLimits(app, auth, options, { prefix: 'rest:', isWrite: (request) => request.method !== 'GET', writes: 'writes' })
  // Every answer of a declared route (refusals included), and every rate-limit refusal; an event stream's operation is the pipeline's record.
  const { metrics } = app
  app.addHook('onResponse', async (request, reply) => {
    if (recordedByPipeline(request)) return
    if (reply.statusCode === 429) metrics.rateLimited.inc()
    const operation = request.routeOptions.config.operationId
    if (operation === undefined) return
    // Reads are queries, actions mutations, as their GraphQL twins; a 304 is a success.
    const status = reply.statusCode
    const outcome = status < 400 ? 'ok' : (problemCodeOf(reply) ?? (status >= 500 ? 'INTERNAL_SERVER_ERROR' : codeOfRefusal(status, 'BAD_USER_INPUT')))
    const type = request.method === 'GET' ? 'query' : 'mutation'
    metrics.operation({ transport: 'rest', type, name: operation, outcome, seconds: reply.elapsedTime / 1000 })
  })
  app.setErrorHandler(async (err, request, reply) => await sendProblem(reply, problemFromError(err, request)))
  app.setNotFoundHandler(async (request, reply) => await sendProblem(reply, problemOf(
    'NOT_FOUND',
    `No resource at ${request.method} ${request.url.split('?')[0]?.slice(0, 200) ?? ''}: see GET /v1/openapi.json for the routes.`,
    String(request.id)
  )))

  const routes = restRoutes(app)
  const openStream = datasetStreams(app, options)
  registerReads(routes, openStream)
  registerActions(routes)
  registerDatasetEvents(routes, openStream)
  registerWebhooks(app, routes)

  // Built once every route above has declared itself (this one too), when the gateway is ready rather than
  // on the first ask: building it blocks the event loop for tens of ms, which a caller should not meet in
  // service. Public like GraphQL's schema, yet behind the same authentication.
  let document: string | undefined
  app.addHook('onReady', async () => { document ??= JSON.stringify(openApiDocument(routes.operations)) })
  const publicConfig = { public: graph.introspection }
  registerDocs(app, '/v1/openapi.json', publicConfig)
  routes.route({
    method: 'GET',
    url: '/openapi.json',
    config: publicConfig,
    operationId: 'getOpenApiDocument',
    summary: 'This document.',
    tags: ['meta'],
    query: NoQuery,
    success: { status: 200, schema: OpenApiDocument, description: 'The OpenAPI 3.1 document of /v1.' }
  }, async (request, reply) => {
    document ??= JSON.stringify(openApiDocument(routes.operations))
    return sendJsonText(request, reply, document)
  })
}

export default fp(rest, {
  name: 'rest',
  encapsulate: true,
  decorators: { fastify: ['auth', 'domain', 'graph', 'metrics', 'operations', 'pipeline', 'sharedState', 'webhooks'] }
})
