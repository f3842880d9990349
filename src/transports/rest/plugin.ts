import { setMaxListeners } from 'node:events'
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { z } from 'zod'
import { callerKey, type Caller } from '../../auth/index.js'
import { creationStatusOf, datasetById, datasetOf, enrichmentOf, listDatasets, modelsOf } from '../../domain/datasets.js'
import { enrichDataset, IdempotencyKeyReused } from '../../domain/enrichment/enrich.js'
import { IdempotencyStoreUnavailable } from '../../domain/enrichment/idempotency.js'
import { taskFilterOptions, taskPage } from '../../domain/task-list.js'
import { watchDataset } from '../../domain/live/watch.js'
import { taskAction } from '../../domain/tasks.js'
import { clearLoaders } from '../../graphql/loaders.js'
import type { GatewayContext } from '../../graphql/context.js'
import { ClusterSlots } from '../caller-slots.js'
import { forcesPreflight } from '../cross-site.js'
import { registerCallerRateLimits } from '../rate-limits.js'
import { registerDocs } from './docs.js'
import { streamDatasetEvents } from './events.js'
import type { DatasetParent } from '../../domain/parents.js'
import type { DomainContext } from '../../domain/context.js'
import { codeOfRefusal, GatewayError } from '../../errors.js'
import { problemCodeOf, problemFromError, problemOf, sendProblem } from './problem.js'
import { plain, sendJsonText, sendRepresentation } from './representation.js'
import { openApiDocument, type Operation } from './openapi.js'
import {
  CreationStatus, DatasetList, DatasetParams, DatasetQuery, DatasetWithIncludes, describeIssue, Enrichment, EnrichmentBody, EventsQuery, EventStream,
  FilterOptionsQuery, IdempotencyKey, ModelList, ModelsQuery, NoQuery, OpenApiDocument, Task, TaskFilterOptions, TaskPage, TaskParams, TasksQuery,
  type Include
} from './schemas.js'

/*
 * REST for partner services, under /v1 (registered with that prefix): resources over the same
 * domain functions as the graph, each request with the graph's own operation context
 * (`app.graph.context`: per-request readers, the caller's credential scope, shared upstream reads).
 * Authentication is the gateway's (app.auth, every AUTH_MODE, a Bearer token); parameters are
 * checked by the zod schemas of schemas.ts before any upstream call; every answer is JSON in the
 * GraphQL contract's names, every error application/problem+json (problem.ts), every GET has an
 * ETag (representation.ts).
 */

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null
  }
  interface FastifyContextConfig {
    /** REST: served without a token when none is sent (the OpenAPI document and its page). */
    public?: boolean
    /** REST: the route's OpenAPI operationId, its label in the metrics. */
    operationId?: string
  }
}

interface Parsed<P, Q> { params: P, query: Q }

const CROSS_SITE_REFUSAL = 'This POST could come from another website (it has no JSON content type, and no header that makes a browser ask the gateway ' +
  'first), so it is refused to prevent cross-site request forgery; nothing was done. Send it with Content-Type: application/json (an empty body where ' +
  'the operation takes none), or with an Authorization header.'

type Schema = z.ZodType

/** Parses a request's path and query parameters, or answers 400 naming the first bad one. */
function parse<P extends Schema, Q extends Schema> (
  request: FastifyRequest, reply: FastifyReply, params: P | null, query: Q
): Parsed<z.output<P>, z.output<Q>> | null {
  const requestId = String(request.id)
  const parsedParams = params === null ? { success: true as const, data: {} } : params.safeParse(request.params)
  if (!parsedParams.success) {
    void sendProblem(reply, problemOf('BAD_USER_INPUT', describeIssue('path', parsedParams.error, request.params), requestId))
    return null
  }
  // A repeated parameter is a list: named as such, whatever the parameter's own schema would say of a list (an unknown one is unknown first).
  const known = query instanceof z.ZodObject ? query.shape : {}
  const repeated = Object.entries((request.query ?? {}) as Record<string, unknown>).find(([name, value]) => Array.isArray(value) && name in known)
  if (repeated !== undefined) {
    void sendProblem(reply, problemOf('BAD_USER_INPUT', `Query parameter ${repeated[0]} must be given once, as text.`, requestId))
    return null
  }
  const parsedQuery = query.safeParse(request.query ?? {})
  if (!parsedQuery.success) {
    void sendProblem(reply, problemOf('BAD_USER_INPUT', describeIssue('query', parsedQuery.error, request.query), requestId))
    return null
  }
  return { params: parsedParams.data as z.output<P>, query: parsedQuery.data as z.output<Q> }
}

/** Links to the other pages of a list (RFC 8288), on the request's own URL with `page` changed. */
function pageLinks (request: FastifyRequest, page: number, pageSize: number, total: number): string {
  const url = new URL(request.url, 'http://gateway')
  const last = Math.max(1, Math.ceil(total / pageSize))
  const link = (to: number, rel: string): string => {
    url.searchParams.set('page', String(to))
    url.searchParams.set('pageSize', String(pageSize))
    return `<${url.pathname}${url.search}>; rel="${rel}"`
  }
  const links = [link(1, 'first')]
  if (page > 1) links.push(link(Math.min(page - 1, last), 'prev'))
  if (page < last) links.push(link(page + 1, 'next'))
  links.push(link(last, 'last'))
  return links.join(', ')
}

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
    try {
      request.caller = await auth.authenticate(request.headers.authorization)
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err
      request.log.info({ reason: err.logDetail }, 'caller refused')
      return sendProblem(reply, problemOf(err.code, err.message, String(request.id)))
    }
  })
  // The allowances of /graphql, per caller, counted apart from its counters; POSTs are writes.
  await registerCallerRateLimits(app, auth, options, { prefix: 'rest:', isWrite: (request) => request.method === 'POST', writes: 'writes' })
  // Every answer of a declared route (refusals included), and every rate-limit refusal.
  const { metrics } = app
  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode === 429) metrics.rateLimited.inc()
    const operation = request.routeOptions.config.operationId
    if (operation === undefined) return
    // Reads are queries, actions mutations, as their GraphQL twins; a 304 is a success.
    const status = reply.statusCode
    const outcome = status < 400 ? 'ok' : (problemCodeOf(reply) ?? (status >= 500 ? 'INTERNAL_SERVER_ERROR' : codeOfRefusal(status, 'BAD_USER_INPUT')))
    const type = request.method === 'POST' ? 'mutation' : 'query'
    metrics.operation({ transport: 'rest', type, name: operation, outcome, seconds: reply.elapsedTime / 1000 })
  })
  app.setErrorHandler(async (err, request, reply) => await sendProblem(reply, problemFromError(err, request)))
  app.setNotFoundHandler(async (request, reply) => await sendProblem(reply, problemOf(
    'NOT_FOUND',
    `No resource at ${request.method} ${request.url.split('?')[0]?.slice(0, 200) ?? ''}: see GET /v1/openapi.json for the routes.`,
    String(request.id)
  )))

  /** The graph's operation context for this request; the client leaving aborts its upstream reads. */
  const contextOf = (request: FastifyRequest, reply: FastifyReply): GatewayContext => {
    if (request.caller === null) throw new Error('unreachable: onRequest authenticates every request')
    const closed = new AbortController()
    setMaxListeners(0, closed.signal)
    reply.raw.once('close', () => { closed.abort() })
    return graph.context(request.caller, String(request.id), closed.signal)
  }

  const notFound = (id: string): GatewayError => new GatewayError('NOT_FOUND', `Dataset ${id} does not exist, or you may not see it.`)

  /** A dataset as JSON, with the related resources `include` names embedded (read in parallel). */
  const datasetResource = async (
    ctx: DomainContext, request: FastifyRequest, dataset: DatasetParent, include: ReadonlySet<Include>
  ): Promise<unknown> => {
    const body = plain(dataset, request.log) as Record<string, unknown>
    const sourceId = body.sourceDatasetId as string | null
    const embedded = await Promise.all([...include].map(async (name): Promise<[Include, unknown]> => {
      switch (name) {
        case 'sourceDataset': return [name, sourceId === null ? null : plain(await datasetOf(ctx, sourceId), request.log)]
        case 'creationStatus': return [name, await creationStatusOf(ctx, dataset.id)]
        case 'models': return [name, plain(await modelsOf(ctx, dataset.id, false), request.log)]
        case 'enrichment': {
          const enrichment = await enrichmentOf(ctx, dataset.id)
          return [name, { id: enrichment.id, status: enrichment.status, applied: enrichment.applied.map(({ type, modelId }) => ({ type, modelId })) }]
        }
      }
      throw new Error('unreachable: include names are checked')
    }))
    for (const [name, value] of embedded) body[name] = value
    return body
  }

  const operations: Operation[] = []
  /** A route and its entry in the OpenAPI document, from one declaration; parameters are parsed before `handler` runs. */
  const route = <P extends z.ZodObject, Q extends z.ZodObject, B extends z.ZodObject = z.ZodObject>(
    operation: Operation & { params?: P, query: Q, body?: B, config?: { public: boolean } },
    handler: (request: FastifyRequest, reply: FastifyReply, parsed: Parsed<z.output<P>, z.output<Q>> & { body: z.output<B> }) => Promise<FastifyReply>
  ): void => {
    operations.push(operation)
    app.route({
      method: operation.method,
      url: operation.url,
      config: { public: operation.config?.public ?? false, operationId: operation.operationId },
      handler: async (request, reply) => {
        const parsed = parse(request, reply, operation.params ?? null, operation.query)
        if (parsed === null) return reply
        let body: unknown
        if (operation.body !== undefined) {
          const result = operation.body.safeParse(request.body)
          if (!result.success) return sendProblem(reply, problemOf('BAD_USER_INPUT', describeIssue('body', result.error, request.body), String(request.id)))
          body = result.data
        }
        return await handler(request, reply, { ...(parsed as Parsed<z.output<P>, z.output<Q>>), body: body as z.output<B> })
      }
    })
  }

  route({
    method: 'GET',
    url: '/datasets',
    operationId: 'listDatasets',
    summary: 'Every dataset the caller can see, newest first.',
    tags: ['datasets'],
    query: NoQuery,
    success: { status: 200, schema: DatasetList, description: 'The datasets.' }
  }, async (request, reply) => {
    const datasets = await listDatasets(contextOf(request, reply))
    return sendRepresentation(request, reply, { nodes: plain(datasets, request.log) })
  })

  route({
    method: 'GET',
    url: '/datasets/:id',
    operationId: 'getDataset',
    summary: 'One dataset, with the related resources ?include names embedded.',
    tags: ['datasets'],
    params: DatasetParams,
    query: DatasetQuery,
    success: { status: 200, schema: DatasetWithIncludes, description: 'The dataset.' },
    problems: [404]
  }, async (request, reply, { params, query }) => {
    const ctx = contextOf(request, reply)
    const dataset = await datasetById(ctx, 'id', params.id)
    if (dataset === null) throw notFound(params.id)
    return sendRepresentation(request, reply, await datasetResource(ctx, request, dataset, query.include))
  })

  route({
    method: 'GET',
    url: '/datasets/:id/creation-status',
    operationId: 'getDatasetCreationStatus',
    summary: 'Creation progress of a dataset made from uploaded files.',
    tags: ['datasets'],
    params: DatasetParams,
    query: NoQuery,
    success: { status: 200, schema: CreationStatus, description: 'The creation status.' },
    problems: [404]
  }, async (request, reply, { params }) => {
    const status = await creationStatusOf(contextOf(request, reply), params.id)
    if (status === null) throw new GatewayError('NOT_FOUND', `Dataset ${params.id} has no creation status: it does not exist, or you may not see it.`)
    return sendRepresentation(request, reply, status)
  })

  route({
    method: 'GET',
    url: '/datasets/:id/models',
    operationId: 'listDatasetModels',
    summary: 'Enrichment models that can be applied to this dataset.',
    tags: ['datasets'],
    params: DatasetParams,
    query: ModelsQuery,
    success: { status: 200, schema: ModelList, description: 'The models.' },
    problems: [404]
  }, async (request, reply, { params, query }) => {
    const models = await modelsOf(contextOf(request, reply), params.id, query.active ?? false)
    return sendRepresentation(request, reply, { nodes: plain(models, request.log) })
  })

  route({
    method: 'GET',
    url: '/tasks',
    operationId: 'listTasks',
    summary: 'Tasks across every dataset the caller can see, one page at a time.',
    tags: ['tasks'],
    query: TasksQuery,
    success: {
      status: 200,
      schema: TaskPage,
      description: 'A page of tasks, with the total.',
      headers: { Link: 'RFC 8288 links to the first, prev, next and last pages.' }
    }
  }, async (request, reply, { query }) => {
    const { page, pageSize, orderBy, direction, ...filter } = query
    const result = await taskPage(contextOf(request, reply), {
      filter,
      orderBy: { field: orderBy ?? 'START_TIME', direction: direction ?? 'DESC' },
      page,
      pageSize
    })
    void reply.header('link', pageLinks(request, page, pageSize, result.total))
    return sendRepresentation(request, reply, plain(result, request.log))
  })

  route({
    method: 'GET',
    url: '/tasks/filter-options',
    operationId: 'getTaskFilterOptions',
    summary: 'The values that occur in each task filter, to build filter menus.',
    tags: ['tasks'],
    query: FilterOptionsQuery,
    success: { status: 200, schema: TaskFilterOptions, description: 'The filter values.' }
  }, async (request, reply, { query }) => {
    return sendRepresentation(request, reply, await taskFilterOptions(contextOf(request, reply), query))
  })

  route({
    method: 'POST',
    url: '/datasets/:id/enrichments',
    operationId: 'enrichDataset',
    summary: 'Apply enrichment models to a READY dataset: Visual Layer builds a new, enriched copy.',
    tags: ['datasets'],
    params: DatasetParams,
    query: NoQuery,
    body: EnrichmentBody,
    headers: { 'Idempotency-Key': IdempotencyKey.optional() },
    success: {
      status: 202,
      schema: Enrichment,
      description: 'Accepted: the enriched copy is being built (see Location). A repeat with the same Idempotency-Key and body answers the same.',
      headers: { Location: 'The enriched dataset.' }
    },
    problems: [404, 409, 415, 422]
  }, async (request, reply, { params, body }) => {
    const requestId = String(request.id)
    const rawKey = request.headers['idempotency-key']
    let idempotencyKey: string | null = null
    if (rawKey !== undefined) {
      const key = IdempotencyKey.safeParse(rawKey)
      if (!key.success) return sendProblem(reply, problemOf('BAD_USER_INPUT', describeIssue('header', key.error, rawKey, 'Idempotency-Key'), requestId))
      idempotencyKey = key.data
    }
    let outcome
    try {
      outcome = await enrichDataset({ datasetId: params.id, models: body.models, idempotencyKey }, contextOf(request, reply))
    } catch (err) {
      if (err instanceof IdempotencyStoreUnavailable) {
        request.log.warn({ code: err.code, detail: err.logDetail }, err.message)
        return sendProblem(reply, {
          ...problemOf(err.code, err.message, requestId),
          type: 'urn:vl-gateway:problem:idempotency-store-unavailable',
          title: 'Idempotency store unavailable'
        })
      }
      if (!(err instanceof IdempotencyKeyReused)) throw err
      return sendProblem(reply, {
        ...problemOf('BAD_USER_INPUT', `Idempotency-Key ${JSON.stringify(idempotencyKey?.slice(0, 80))} was already used for another enrichment request (another dataset or other models); use a new key for a new request. Nothing was sent to Visual Layer.`, requestId),
        type: 'urn:vl-gateway:problem:idempotency-key-reused',
        status: 422,
        title: 'Idempotency-Key reused'
      })
    }
    return reply.code(202).header('location', `/v1/datasets/${outcome.enrichedDatasetId}`).header('cache-control', 'no-store')
      .send({ enrichedDatasetId: outcome.enrichedDatasetId, sourceDatasetId: params.id })
  })

  for (const action of ['abort', 'retry'] as const) {
    route({
      method: 'POST',
      url: `/tasks/:id/${action}`,
      operationId: `${action}Task`,
      summary: action === 'abort' ? 'Cancel a dataset-creation task that has not finished.' : 'Restart a dataset-creation task that FAILED or was ABORTED.',
      tags: ['tasks'],
      params: TaskParams,
      query: NoQuery,
      success: { status: 200, schema: Task, description: 'The task as the action left it.' },
      problems: [404, 409]
    }, async (request, reply, { params }) => {
      const task = await taskAction(action, params.id, contextOf(request, reply))
      return reply.header('cache-control', 'no-store').send(plain(task, request.log))
    })
  }

  /** Ends each open event stream: shutdown calls them all. */
  const open = new Set<() => void>()
  const track = (end: () => void): (() => void) => {
    open.add(end)
    return () => { open.delete(end) }
  }
  app.metrics.watchSseStreams('rest', () => open.size)
  // Each caller's event streams, with the slots SSE streams use (across replicas with REDIS_URL), in a pool of their own.
  const streamSlots = new ClusterSlots(
    options.maxStreamsPerCaller, app.sharedState.slots('rest-events'), app.log.child({ component: 'rest-events' })
  )
  app.addHook('preClose', async () => {
    for (const end of [...open]) end()
    await streamSlots.close()
  })

  route({
    method: 'GET',
    url: '/datasets/:id/events',
    operationId: 'streamDatasetEvents',
    summary: 'The dataset\'s status now, then each time it changes, as Server-Sent Events; ends after READY or ERROR unless follow=true.',
    tags: ['datasets'],
    params: DatasetParams,
    query: EventsQuery,
    headers: { 'Last-Event-ID': z.string().meta({ description: 'On reconnect: the id of the last event received; that state is not sent again.' }).optional() },
    success: { status: 200, schema: EventStream, description: 'The event stream.', mediaType: 'text/event-stream' },
    problems: [404]
  }, async (request, reply, { params, query }) => {
    const ctx = contextOf(request, reply)
    const key = callerKey(auth, ctx.caller, request.ip)
    if (!await streamSlots.take(key)) {
      return sendProblem(reply, problemOf(
        'RATE_LIMITED',
        `Too many event streams: at most ${options.maxStreamsPerCaller} per caller at once (REST_MAX_STREAMS_PER_CALLER). Close one before opening another.`,
        String(request.id)
      ))
    }
    // Freed once, whichever comes first: the stream's end, or its client leaving (also while the slot was taken).
    let held = true
    const release = (): void => {
      if (!held) return
      held = false
      streamSlots.release(key)
    }
    if (reply.raw.closed) release()
    else reply.raw.once('close', release)
    try {
      // Each event reads afresh, under a renewed call budget, as subscriptions do.
      const events = watchDataset(ctx, params.id, query.follow ?? false, () => {
        clearLoaders(ctx.loaders)
        ctx.call.budget?.renew()
      })
      return await streamDatasetEvents({ request, reply, events, expiresAt: ctx.caller.expiresAt, track, maxBufferedBytes: options.maxBufferedBytes })
    } finally {
      release()
    }
  })

  // Built on first ask, once every route above has declared itself (this one too); public like
  // GraphQL's schema, yet behind the same authentication.
  let document: string | undefined
  const publicConfig = { public: graph.introspection }
  registerDocs(app, '/v1/openapi.json', publicConfig)
  route({
    method: 'GET',
    url: '/openapi.json',
    config: publicConfig,
    operationId: 'getOpenApiDocument',
    summary: 'This document.',
    tags: ['meta'],
    query: NoQuery,
    success: { status: 200, schema: OpenApiDocument, description: 'The OpenAPI 3.1 document of /v1.' }
  }, async (request, reply) => {
    document ??= JSON.stringify(openApiDocument(operations))
    return sendJsonText(request, reply, document)
  })
}

export default fp(rest, { name: 'rest', encapsulate: true, decorators: { fastify: ['auth', 'graph', 'metrics', 'sharedState'] } })
