import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import type { ExecutionResult, OperationTypeNode } from 'graphql'
import { createHandler, TOKEN_HEADER_KEY, TOKEN_QUERY_KEY, type Handler, type Request, type Response } from 'graphql-sse'
import { callerKey, type Auth, type Caller } from '../../auth/index.js'
import type { LiveTime } from '../../domain/live/time.js'
import { ERRORS, type ErrorCode } from '../../errors.js'
import type { GatewayContext } from '../../graphql/context.js'
import type { OnlyTypes, OperationPipeline, OperationRun } from '../../graphql/pipeline/pipeline.js'
import { abortOnLeave } from '../authenticate.js'
import type { RequestContext } from './respond.js'
import { subscriptionResults } from './results.js'
import { ownerOf, type OwnedStream, type SseStreams } from './streams.js'

/*
 * graphql-sse's handler on the pipeline (src/graphql/pipeline): its stream tokens bound to their
 * owners and counted per caller (streams.ts), each subscription a prepared operation (or its refusal,
 * answered as the operation's one result), its results formatted and recorded, its record ended when
 * it completes. Requests reach it authenticated (the plugin's onRequest hook).
 */

export type Context = Record<PropertyKey, unknown>
export type SseContext = RequestContext & { purging?: true, counted?: OwnedStream, operation?: OperationRun }
type SseRequest = Request<FastifyRequest | null, SseContext>
export type SseHandler = Handler<FastifyRequest | null, SseContext>

export interface HandlerSettings {
  path: string
  maxStreamsPerCaller: number
  maxOperationsPerStream: number
  reservationTimeoutMs: number
  /** The timer of a reservation's timeout. */
  time: Pick<LiveTime, 'after'>
  /** Runs queries and mutations too (GraphQL over HTTP's event streams at /graphql); else subscriptions and live queries only. */
  anyOperation?: boolean
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' }

/** A refusal of the request with its code's status (src/errors.ts). */
function refusal (code: ErrorCode, message: string, requestId: string): Response {
  const body = JSON.stringify({ data: null, errors: [{ message, extensions: { code, requestId } }] })
  return [body, { status: ERRORS[code].status, statusText: '', headers: JSON_HEADERS }]
}

export function sseHandler (
  auth: Auth, pipeline: OperationPipeline, streams: SseStreams, settings: HandlerSettings, log: FastifyBaseLogger, purge: (stream: OwnedStream) => void
): SseHandler {
  const subscriptionsOnly: OnlyTypes = {
    types: new Set<OperationTypeNode>(['subscription' as OperationTypeNode]),
    refusal: `${settings.path} serves subscriptions and live queries (@live) only (name the one to run with operationName when the document holds several). ` +
      'Send queries and mutations to POST /graphql.',
    namesUnidentified: true,
    live: true
  }
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
    `Too many SSE streams: at most ${settings.maxStreamsPerCaller} per caller. Close one, or run many subscriptions on one stream (single-connection mode).`,
    requestId
  )
  const unknownStream = (requestId: string): Response => refusal(
    'NOT_FOUND',
    'No such event stream, or it has closed: reserve one with PUT and use the token it answers.',
    requestId
  )
  /** A refusal given as the operation's one result (then complete), as graphql-sse gives validation errors. */
  const refusedResult = (code: ErrorCode, message: string): ExecutionResult => ({ data: null, errors: [...pipeline.refusal(code, message)] })

  return createHandler<FastifyRequest | null, SseContext, Context>({
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
        stream.expiry = settings.time.after(settings.reservationTimeoutMs, () => { purge(stream) })
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
        stream.expiry()
        closing.once('close', () => { streams.end(stream) })
        return
      }
      const key = callerKey(auth, caller, request.ip)
      if (!await streams.take(key)) return tooManyStreams(String(request.id))
      // The client may have gone while the slot was taken: its 'close' has passed, release now.
      if (closing.closed) streams.release(key)
      else closing.once('close', () => { streams.release(key) })
    },
    onSubscribe: async (req, params) => {
      const request = requestOf(req)
      const requestId = String(request.id)
      const token = tokenOf(req)
      const stream = token === null ? undefined : streams.ownedBy(token, ownerOf(callerOf(req)))
      if (token !== null && stream === undefined) return unknownStream(requestId)
      // From here graphql-sse answers with results then completes: the operation's record ends in onComplete.
      const run = req.context.operation = pipeline.start({ transport: 'sse', requestId, log: request.log, logNamesRequest: true })
      if (stream !== undefined) {
        if (stream.operations >= settings.maxOperationsPerStream) {
          return refusedResult(
            'RATE_LIMITED',
            `Too many subscriptions on this event stream: at most ${settings.maxOperationsPerStream}. Complete one first, or open another stream.`
          )
        }
        // Counted from now (onComplete uncounts it, refused or not): another operation cannot pass the check meanwhile.
        stream.operations++
        req.context.counted = stream
      }
      if (request.documentRefusal !== null) return refusedResult('QUERY_REJECTED', request.documentRefusal)
      // A stream's operations stop with the stream; a distinct connection's when its client leaves.
      const signal = stream?.closed.signal ?? abortOnLeave(req.context.reply.raw)
      // The caller's lane: a document not read before waits for its turn (src/graphql/read-turns.ts).
      const caller = callerOf(req)
      const only = settings.anyOperation === true ? undefined : subscriptionsOnly
      const prepared = await run.prepare({ caller, params, signal, lane: callerKey(auth, caller, request.ip), only, live: true })
      if (prepared.errors !== undefined) return { data: null, errors: [...prepared.errors] }
      return { ...prepared.args, contextValue: prepared.args.contextValue as Context }
    },
    // onSubscribe validated the document already, with graphql's rules after the gateway's limits.
    validate: () => [],
    subscribe: async (args) => {
      const result = await pipeline.subscribe(args)
      if (!(Symbol.asyncIterator in result)) return result
      const caller = (args.contextValue as unknown as GatewayContext).caller
      return subscriptionResults(result[Symbol.asyncIterator](), caller.expiresAt)
    },
    // A live query's results end at expiry as a subscription's do.
    execute: async (args) => {
      const result = await pipeline.execute(args)
      if (!(Symbol.asyncIterator in result)) return result
      const caller = (args.contextValue as unknown as GatewayContext).caller
      return subscriptionResults(result[Symbol.asyncIterator](), caller.expiresAt)
    },
    onNext: (_ctx, req, result) => {
      const run = req.context.operation
      const value = result as ExecutionResult
      return run === undefined ? pipeline.format(value, String(req.raw?.id ?? 'sse'), log) : run.format(value)
    },
    onComplete: (_ctx, req) => {
      req.context.operation?.finish()
      const stream = req.context.counted
      if (stream === undefined) return
      req.context.counted = undefined
      stream.operations--
    }
  })
}
