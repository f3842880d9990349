import { setMaxListeners } from 'node:events'
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { z } from 'zod'
import { callerKey, type Caller } from '../../auth/index.js'
import { creationStatusOf, datasetById, datasetOf, enrichmentOf, listDatasets, modelsOf } from '../../domain/datasets.js'
import { taskFilterOptions, taskPage } from '../../domain/task-list.js'
import type { DatasetParent } from '../../domain/parents.js'
import type { DomainContext } from '../../domain/context.js'
import { GatewayError } from '../../errors.js'
import { problemFromError, problemOf, sendProblem } from './problem.js'
import { plain, sendRepresentation } from './representation.js'
import { DatasetParams, DatasetQuery, describeIssue, FilterOptionsQuery, ModelsQuery, NoQuery, TasksQuery, type Include } from './schemas.js'

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
}

interface Parsed<P, Q> { params: P, query: Q }

type Schema = z.ZodType<unknown, unknown>

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
}

const rest: FastifyPluginAsync<RestOptions> = async (app: FastifyInstance, options) => {
  const { auth, graph } = app

  app.decorateRequest('caller', null)
  app.addHook('onRequest', async (request, reply) => {
    try {
      request.caller = await auth.authenticate(request.headers.authorization)
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err
      request.log.info({ reason: err.logDetail }, 'caller refused')
      return sendProblem(reply, problemOf(err.code, err.message, String(request.id)))
    }
  })
  // The allowances of /graphql, per caller, counted after authentication (so by caller, not address).
  const kindOf = (request: FastifyRequest): 'writes' | 'requests' =>
    request.method === 'POST' && options.rateLimitMutationsPerMinute > 0 ? 'writes' : 'requests'
  const allowance = (request: FastifyRequest): number =>
    kindOf(request) === 'writes' ? options.rateLimitMutationsPerMinute : options.rateLimitPerMinute
  if (options.rateLimitPerMinute > 0 || options.rateLimitMutationsPerMinute > 0) {
    await app.register(rateLimit, {
      hook: 'preHandler',
      max: (request) => allowance(request),
      timeWindow: 60_000,
      allowList: (request) => allowance(request) === 0,
      keyGenerator: (request) => `rest:${kindOf(request)}:${request.caller === null ? `address:${request.ip}` : callerKey(auth, request.caller, request.ip)}`,
      errorResponseBuilder: (request, context) => Object.assign(
        new Error(`Too many ${kindOf(request)}: at most ${context.max} a minute for each caller. Try again in ${context.after}.`),
        { statusCode: 429 }
      )
    })
  }
  app.setErrorHandler(async (err, request, reply) => await sendProblem(reply, problemFromError(err, request)))
  app.setNotFoundHandler(async (request, reply) => await sendProblem(reply, problemOf(
    'NOT_FOUND',
    `No resource at ${request.method} ${request.url.split('?')[0]?.slice(0, 200) ?? ''}: see GET /v1/openapi.json for the routes.`,
    String(request.id)
  )))

  /** The graph's operation context for this request; the client leaving aborts its upstream reads. */
  const contextOf = (request: FastifyRequest, reply: FastifyReply): DomainContext => {
    if (request.caller === null) throw new Error('unreachable: onRequest authenticates every request')
    const closed = new AbortController()
    setMaxListeners(0, closed.signal)
    reply.raw.once('close', () => { closed.abort() })
    return graph.context(request.caller, String(request.id), closed.signal)
  }

  const notFound = (id: string): GatewayError => new GatewayError('NOT_FOUND', `Dataset ${id} does not exist, or you may not see it.`)

  /** A dataset as JSON, with the related resources `include` names embedded (read in parallel). */
  const datasetResource = async (ctx: DomainContext, request: FastifyRequest, dataset: DatasetParent, include: ReadonlySet<Include>): Promise<unknown> => {
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

  app.get('/datasets', async (request, reply) => {
    const parsed = parse(request, reply, null, NoQuery)
    if (parsed === null) return reply
    const datasets = await listDatasets(contextOf(request, reply))
    return sendRepresentation(request, reply, { nodes: plain(datasets, request.log) })
  })

  app.get('/datasets/:id', async (request, reply) => {
    const parsed = parse(request, reply, DatasetParams, DatasetQuery)
    if (parsed === null) return reply
    const ctx = contextOf(request, reply)
    const dataset = await datasetById(ctx, 'id', parsed.params.id)
    if (dataset === null) throw notFound(parsed.params.id)
    return sendRepresentation(request, reply, await datasetResource(ctx, request, dataset, parsed.query.include))
  })

  app.get('/datasets/:id/creation-status', async (request, reply) => {
    const parsed = parse(request, reply, DatasetParams, NoQuery)
    if (parsed === null) return reply
    const status = await creationStatusOf(contextOf(request, reply), parsed.params.id)
    if (status === null) {
      throw new GatewayError('NOT_FOUND', `Dataset ${parsed.params.id} has no creation status: it does not exist, or you may not see it.`)
    }
    return sendRepresentation(request, reply, status)
  })

  app.get('/datasets/:id/models', async (request, reply) => {
    const parsed = parse(request, reply, DatasetParams, ModelsQuery)
    if (parsed === null) return reply
    const models = await modelsOf(contextOf(request, reply), parsed.params.id, parsed.query.active ?? false)
    return sendRepresentation(request, reply, { nodes: plain(models, request.log) })
  })

  app.get('/tasks', async (request, reply) => {
    const parsed = parse(request, reply, null, TasksQuery)
    if (parsed === null) return reply
    const { page, pageSize, orderBy, direction, ...filter } = parsed.query
    const result = await taskPage(contextOf(request, reply), {
      filter,
      orderBy: { field: orderBy ?? 'START_TIME', direction: direction ?? 'DESC' },
      page,
      pageSize
    })
    void reply.header('link', pageLinks(request, page, pageSize, result.total))
    return sendRepresentation(request, reply, plain(result, request.log))
  })

  app.get('/tasks/filter-options', async (request, reply) => {
    const parsed = parse(request, reply, null, FilterOptionsQuery)
    if (parsed === null) return reply
    return sendRepresentation(request, reply, await taskFilterOptions(contextOf(request, reply), parsed.query))
  })
}

export default fp(rest, { name: 'rest', encapsulate: true, decorators: { fastify: ['auth', 'graph'] } })
