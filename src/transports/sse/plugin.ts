import { randomUUID } from 'node:crypto'
import { setMaxListeners } from 'node:events'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { getOperationAST, GraphQLError, specifiedRules, type ExecutionResult } from 'graphql'
import { createHandler, TOKEN_HEADER_KEY, TOKEN_QUERY_KEY, type Request, type Response } from 'graphql-sse'
import { callerKey, type Caller } from '../../auth/index.js'
import { ERRORS, GatewayError, type ErrorCode } from '../../errors.js'
import type { GatewayContext } from '../../graphql/context.js'
import { checkCost, readDocumentInTurn } from '../../graphql/document.js'
import { formatStreamedResult } from '../../graphql/error-formatter.js'
import type { Operation } from '../../plugins/operations.js'
import { ClusterSlots } from '../caller-slots.js'
import type { DocumentParams } from '../../graphql/trusted-documents.js'
import { authenticateRequest } from '../graphql-http/authentication.js'
import { paramsOf } from '../graphql-http/document-checks.js'
import { GRAPHQL_GET_PARAMETERS, repeatedParameter } from '../graphql-http/get-parameters.js'
import { respond, type RequestContext } from './respond.js'
import { subscriptionResults } from './results.js'
import { ownerOf, SseStreams, type OwnedStream } from './streams.js'

/*
 * GraphQL subscriptions over Server-Sent Events at `path` (/graphql/stream: Mercurius owns the
 * methods of /graphql), with the graphql-sse protocol in both its modes: distinct connections (one
 * POST or GET with `Accept: text/event-stream` per subscription) and single connection (PUT
 * reserves a stream, GET/POST with `Accept: text/event-stream` and the
 * `x-graphql-event-stream-token` header opens it, POSTs with that header add operations, DELETE
 * ends one). Every request is authenticated by its Authorization header, like GraphQL over HTTP;
 * documents pass the gateway's limits; subscriptions ride the same shared pollers as WebSocket ones
 * and end with UNAUTHENTICATED when their token expires. Queries and mutations are refused: they
 * belong to POST /graphql, under its rate limit. A trusted document's id is replaced by its text
 * before graphql-sse reads the request (it requires a "query"); a refused id is answered as the
 * operation's result, as a refused document is.
 */

export interface SseOptions {
  path: string
  maxStreamsPerCaller: number
  /** Operations one single-connection stream may run at once. */
  maxOperationsPerStream: number
  /** A reserved single-connection stream not opened within this time is dropped. */
  reservationTimeoutMs?: number
  /** Bytes a stream may hold unsent for a client that does not read (STREAM_MAX_BUFFERED_BYTES). */
  maxBufferedBytes: number
}

type Context = Record<PropertyKey, unknown>
type SseRequest = Request<FastifyRequest | null, RequestContext & { purging?: true, counted?: OwnedStream, operation?: Operation }>

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' }

/** A refusal of the request with its code's status (src/errors.ts). */
function refusal (code: ErrorCode, message: string, requestId: string): Response {
  const body = JSON.stringify({ data: null, errors: [{ message, extensions: { code, requestId } }] })
  return [body, { status: ERRORS[code].status, statusText: '', headers: JSON_HEADERS }]
}

/** A refusal given as the operation's one result (then complete), as graphql-sse gives validation errors. */
function refusedResult (code: ErrorCode, message: string): ExecutionResult {
  return { data: null, errors: [new GraphQLError(message, { originalError: new GatewayError(code, message) })] }
}

const sse: FastifyPluginAsync<SseOptions> = async (app, options) => {
  const { auth, graph } = app
  const log = app.log.child({ component: 'sse' })
  const slots = new ClusterSlots(options.maxStreamsPerCaller, app.sharedState.slots('sse'), log)
  const streams = new SseStreams(slots)
  const reservationTimeoutMs = options.reservationTimeoutMs ?? 30_000
  /** Ends each open event stream: shutdown calls them all. */
  const open = new Set<() => Promise<unknown>>()

  app.decorateRequest('caller', null)
  app.decorateRequest('documentRefusal', null)
  app.addHook('onRequest', async (request, reply) => await authenticateRequest(auth, request, reply))

  const requestOf = (req: SseRequest): FastifyRequest => {
    if (req.raw === null) throw new Error('unreachable: a request of the gateway itself reached an operation hook')
    return req.raw
  }
  const callerOf = (req: SseRequest): Caller => {
    const caller = requestOf(req).caller
    if (caller === null) throw new Error('unreachable: onRequest authenticates every request')
    return caller
  }
  const tokenOf = (req: SseRequest): string | null => {
    const token = req.headers.get(TOKEN_HEADER_KEY) ?? new URL(req.url, 'http://localhost/').searchParams.get(TOKEN_QUERY_KEY)
    return token === null || token === '' ? null : token
  }
  const tooManyStreams = (requestId: string): Response => refusal(
    'RATE_LIMITED',
    `Too many SSE streams: at most ${options.maxStreamsPerCaller} per caller. Close one, or run many subscriptions on one stream (single-connection mode).`,
    requestId
  )
  const unknownStream = (requestId: string): Response => refusal(
    'NOT_FOUND',
    'No such event stream, or it has closed: reserve one with PUT and use the token it answers.',
    requestId
  )

  /** Drops a reserved stream: graphql-sse forgets a stream only when it closes, so it is opened and closed here. */
  const purge = async (stream: OwnedStream): Promise<void> => {
    streams.end(stream)
    const headers: Record<string, string> = { accept: 'text/event-stream', [TOKEN_HEADER_KEY]: stream.token }
    const [body] = await handler({
      method: 'GET',
      url: options.path,
      headers: { get: (key) => headers[key] ?? null },
      body: null,
      raw: null,
      context: { purging: true } as SseRequest['context']
    })
    if (body !== null && typeof body !== 'string') await body.return(undefined)
  }

  const handler = createHandler<FastifyRequest | null, SseRequest['context'], Context>({
    // The stream token of single-connection mode: made here on PUT (never chosen by the client) and
    // bound to its owner; null without one, which is distinct-connections mode.
    authenticate: async (req) => {
      if (req.context.purging === true) return tokenOf(req)
      const request = requestOf(req)
      const caller = callerOf(req)
      if (req.method === 'PUT') {
        const countedAs = callerKey(auth, caller, request.ip)
        if (!await streams.take(countedAs)) return tooManyStreams(String(request.id))
        const stream = streams.reserve(randomUUID(), ownerOf(caller), countedAs)
        stream.expiry = setTimeout(() => {
          purge(stream).catch((err: unknown) => { log.error({ err }, 'unexpected error dropping an unopened SSE stream') })
        }, reservationTimeoutMs)
        return stream.token
      }
      const token = tokenOf(req)
      if (token === null) return null
      const stream = streams.ownedBy(token, ownerOf(caller))
      if (stream === undefined) return unknownStream(String(request.id))
      // The gateway runs an operation only for a client that listens (refused here, before graphql-sse reserves its id).
      if (!stream.opened && req.headers.get('accept') !== 'text/event-stream') {
        return refusal(
          'CONFLICT',
          'Open the event stream first (GET or POST with Accept: text/event-stream and its token), then send operations to it.',
          String(request.id)
        )
      }
      return token
    },
    // An event stream about to open: it counts against its caller until it closes.
    onConnect: async (req) => {
      if (req.context.purging === true) return
      const request = requestOf(req)
      const caller = callerOf(req)
      const closing = req.context.reply.raw
      const token = tokenOf(req)
      if (token !== null) {
        const stream = streams.ownedBy(token, ownerOf(caller))
        if (stream === undefined) return unknownStream(String(request.id))
        if (stream.opened) return refusal('CONFLICT', 'This event stream is already open: one stream per token.', String(request.id))
        stream.opened = true
        clearTimeout(stream.expiry)
        closing.once('close', () => { streams.end(stream) })
        return
      }
      const key = callerKey(auth, caller, request.ip)
      if (!await streams.take(key)) return tooManyStreams(String(request.id))
      // The client may have gone while the slot was taken: its 'close' has passed, release now.
      if (closing.closed) streams.release(key)
      else closing.once('close', () => { streams.release(key) })
    },
    // Parsed and validated here, under the same limits as documents on the other GraphQL doors.
    onSubscribe: async (req, params) => {
      const request = requestOf(req)
      const requestId = String(request.id)
      const token = tokenOf(req)
      const stream = token === null ? undefined : streams.ownedBy(token, ownerOf(callerOf(req)))
      if (token !== null && stream === undefined) return unknownStream(requestId)
      // From here graphql-sse answers with results then completes: the operation's record ends in onComplete.
      const operation = req.context.operation = app.operations.start({ transport: 'sse', requestId, log: request.log, logNamesRequest: true })
      if (stream !== undefined && stream.operations >= options.maxOperationsPerStream) {
        return refusedResult(
          'RATE_LIMITED',
          `Too many subscriptions on this event stream: at most ${options.maxOperationsPerStream}. Complete one first, or open another stream.`
        )
      }
      if (request.documentRefusal !== null) return refusedResult('QUERY_REJECTED', request.documentRefusal)
      // A document not read before waits for the caller's turn (src/graphql/read-turns.ts).
      const reader = callerKey(auth, callerOf(req), request.ip)
      const { document, errors } = await readDocumentInTurn(reader, graph.schema, params.query, graph.limits, specifiedRules)
      if (errors !== undefined) return { data: null, errors: [...errors] }
      operation.identify(document, params.operationName)
      if (getOperationAST(document, params.operationName)?.operation !== 'subscription') {
        return refusedResult(
          'QUERY_REJECTED',
          `${options.path} serves subscriptions only (name the one to run with operationName when the document holds several). Send queries and mutations to POST /graphql.`
        )
      }
      const { error } = checkCost(graph.schema, document, graph.limits, params.variables, params.operationName)
      if (error !== undefined) return { data: null, errors: [error] }
      let signal: AbortSignal
      if (stream !== undefined) {
        stream.operations++
        req.context.counted = stream
        signal = stream.closed.signal
      } else {
        // Every upstream call of the operation listens to it; the client leaving aborts them.
        const closed = new AbortController()
        setMaxListeners(0, closed.signal)
        req.context.reply.raw.once('close', () => { closed.abort() })
        signal = closed.signal
      }
      const context = graph.context(callerOf(req), requestId, signal)
      operation.attach(context, false)
      const contextValue = context as unknown as Context
      return { schema: graph.schema, document, variableValues: params.variables, operationName: params.operationName, contextValue }
    },
    // onSubscribe validated the document already, with graphql's rules after the gateway's limits.
    validate: () => [],
    subscribe: async (args) => {
      const result = await graph.subscribe(args)
      if (!(Symbol.asyncIterator in result)) return result
      const caller = (args.contextValue as unknown as GatewayContext).caller
      return subscriptionResults(result[Symbol.asyncIterator](), caller.expiresAt)
    },
    onNext: (_ctx, req, result) => {
      const formatted = formatStreamedResult(result as ExecutionResult, String(req.raw?.id ?? 'sse'), log, { hideSuggestions: !graph.introspection })
      req.context.operation?.errors(formatted?.errors)
      return formatted
    },
    onComplete: (_ctx, req) => {
      req.context.operation?.finish()
      const stream = req.context.counted
      if (stream === undefined) return
      req.context.counted = undefined
      stream.operations--
    }
  })

  /**
   * The URL graphql-sse reads (a GET's document is in it), once a trusted document's id is replaced by
   * its text. A GET's URL is written anew from the parameters Fastify read and the checks saw, so that
   * graphql-sse (which reads the URL itself) can read nothing else.
   */
  const resolveDocument = (request: FastifyRequest): string => {
    if (request.method !== 'GET' && request.method !== 'POST') return request.url
    const params: DocumentParams = request.method === 'GET' ? paramsOf(request) : typeof request.body === 'object' && request.body !== null ? request.body : {}
    const resolution = graph.trusted.resolve(params)
    // Refused: graphql-sse still needs a "query" to reach onSubscribe, which answers the refusal.
    if (resolution.refused !== undefined) request.documentRefusal = resolution.refused
    const text = resolution.refused === undefined ? resolution.query : ''
    if (request.method === 'POST') {
      if (typeof text === 'string' && text !== params.query) (request.body as { query?: unknown }).query = text
      return request.url
    }
    const given = request.query as Partial<Record<string, string>>
    const search = new URLSearchParams()
    if (typeof text === 'string') search.set('query', text)
    for (const name of ['operationName', 'variables', 'extensions', TOKEN_QUERY_KEY]) {
      const value = given[name]
      if (value !== undefined) search.set(name, value)
    }
    const path = request.url.split('?')[0] ?? ''
    return search.size === 0 ? path : `${path}?${search.toString()}`
  }

  const track = (end: () => Promise<unknown>): (() => void) => {
    open.add(end)
    return () => { open.delete(end) }
  }
  app.metrics.watchSseStreams('graphql', () => open.size)
  app.route({
    method: ['GET', 'POST', 'PUT', 'DELETE'],
    url: options.path,
    handler: async (request, reply) => {
      // Each parameter once, before anything reads the query string (see get-parameters.ts).
      const repeated = request.method === 'GET' ? repeatedParameter(request.query, [...GRAPHQL_GET_PARAMETERS, TOKEN_QUERY_KEY]) : null
      if (repeated !== null) {
        const requestId = String(request.id)
        return await reply.code(400).send({ data: null, errors: [{ message: repeated, extensions: { code: 'QUERY_REJECTED', requestId } }] })
      }
      await respond(handler, request, reply, { track, maxBufferedBytes: options.maxBufferedBytes }, resolveDocument(request))
    }
  })

  app.addHook('preClose', async () => {
    await Promise.all([...open].map(async (end) => await end()))
    await Promise.all(streams.reservations().filter((stream) => !stream.opened).map(purge))
    await slots.close()
  })
}

export default fp(sse, { name: 'sse', encapsulate: true, decorators: { fastify: ['auth', 'graph', 'operations', 'sharedState'] } })
