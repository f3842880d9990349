import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { TOKEN_HEADER_KEY, TOKEN_QUERY_KEY } from 'graphql-sse'
import { authenticateRequest, refuseGraphQLCaller } from '../authenticate.js'
import { realTime, type LiveTime } from '../../domain/live/time.js'
import { ClusterSlots } from '../caller-slots.js'
import { connectionEnded } from '../events.js'
import { GRAPHQL_GET_PARAMETERS, repeatedParameter } from '../graphql-parameters.js'
import { resolveDocument } from './documents.js'
import { addEventStreamConstraint, EVENT_STREAM_CONSTRAINT, WANTS_EVENT_STREAM } from './event-stream-route.js'
import { sseHandler, type SseContext } from './handler.js'
import { respond } from './respond.js'
import { SseStreams, type OwnedStream } from './streams.js'

/*
 * GraphQL subscriptions over Server-Sent Events at `path` (/graphql/stream: GraphQL over HTTP
 * owns the JSON requests to /graphql), with the graphql-sse protocol in both its modes: distinct connections (one
 * POST or GET with `Accept: text/event-stream` per subscription) and single connection (PUT
 * reserves a stream, GET/POST with `Accept: text/event-stream` and the
 * `x-graphql-event-stream-token` header opens it, POSTs with that header add operations, DELETE
 * ends one). An adapter of that protocol to the operation pipeline (app.pipeline, through
 * handler.ts): every request is authenticated by its Authorization header, like GraphQL over HTTP;
 * documents pass the gateway's limits; subscriptions ride the same shared pollers as WebSocket ones
 * and end with UNAUTHENTICATED when their token expires. Queries and mutations are refused: they
 * belong to POST /graphql, under its rate limit. A trusted document's id is replaced by its text
 * before graphql-sse reads the request (documents.ts); a refused id is answered as the operation's
 * result, as a refused document is.
 */

export interface SseOptions {
  path: string
  maxStreamsPerCaller: number
  /** Operations one single-connection stream may run at once. */
  maxOperationsPerStream: number
  /** A reserved single-connection stream not opened within this time is dropped. */
  reservationTimeoutMs?: number
  /** The timer of a reservation's timeout: the process's own unless a test gives one it moves itself. */
  time?: Pick<LiveTime, 'after'>
  /** Bytes a stream may hold unsent for a client that does not read (STREAM_MAX_BUFFERED_BYTES). */
  maxBufferedBytes: number
  /**
   * GraphQL over HTTP's path (/graphql): a GET or POST there that prefers `text/event-stream` is served
   * here, in distinct-connections mode, any operation (event-stream-route.ts). Absent: not served.
   */
  graphqlPath?: string
}

const sse: FastifyPluginAsync<SseOptions> = async (app, options) => {
  const { auth, graph } = app
  const log = app.log.child({ component: 'sse' })
  const slots = new ClusterSlots(options.maxStreamsPerCaller, app.sharedState.slots('sse'), log)
  const streams = new SseStreams(slots)
  /** Ends each open event stream: shutdown calls them all. */
  const open = new Set<() => Promise<unknown>>()

  app.decorateRequest('caller', null)
  app.decorateRequest('documentRefusal', null)
  app.addHook('onRequest', async (request, reply) => await authenticateRequest(auth, request, reply, refuseGraphQLCaller))

  /** Drops a reserved stream: graphql-sse forgets a stream only when it closes, so it is opened and closed here. */
  const purge = async (stream: OwnedStream): Promise<void> => {
    streams.end(stream)
    connectionEnded(app.server, 'sse', () => open.size, 'reservation')
    const headers: Record<string, string> = { accept: 'text/event-stream', [TOKEN_HEADER_KEY]: stream.token }
    const [body] = await handler({
      method: 'GET',
      url: options.path,
      headers: { get: (key) => headers[key] ?? null },
      body: null,
      raw: null,
      context: { purging: true } as SseContext
    })
    if (body !== null && typeof body !== 'string') await body.return(undefined)
  }
  const settings = { ...options, reservationTimeoutMs: options.reservationTimeoutMs ?? 30_000, time: options.time ?? realTime }
  const handler = sseHandler(auth, app.pipeline, streams, settings, log, (stream) => {
    purge(stream).catch((err: unknown) => { log.error({ err }, 'unexpected error dropping an unopened SSE stream') })
  })

  const track = (end: () => Promise<unknown>): (() => void) => {
    open.add(end)
    return () => {
      open.delete(end)
      connectionEnded(app.server, 'sse', () => open.size)
    }
  }
  app.metrics.watchSseStreams('graphql', () => open.size)
  /** A route's handler on `served`: each parameter once, before anything reads the query string (see graphql-parameters.ts). */
  const serve = (served: typeof handler) => async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const repeated = request.method === 'GET' ? repeatedParameter(request.query, [...GRAPHQL_GET_PARAMETERS, TOKEN_QUERY_KEY]) : null
    if (repeated !== null) {
      const requestId = String(request.id)
      return await reply.code(400).send({ data: null, errors: [{ message: repeated, extensions: { code: 'QUERY_REJECTED', requestId } }] })
    }
    await respond(served, request, reply, { track, maxBufferedBytes: options.maxBufferedBytes }, resolveDocument(graph.trusted, request))
  }
  app.route({ method: ['GET', 'POST', 'PUT', 'DELETE'], url: options.path, handler: serve(handler) })

  if (options.graphqlPath !== undefined) {
    const graphqlPath = options.graphqlPath
    // Any operation: a query or mutation gets its one result, then complete; a live query and a subscription stream.
    const anyOperation = sseHandler(auth, app.pipeline, streams, { ...settings, path: graphqlPath, anyOperation: true }, log, (stream) => {
      purge(stream).catch((err: unknown) => { log.error({ err }, 'unexpected error dropping an unopened SSE stream') })
    })
    addEventStreamConstraint(app)
    app.route({
      method: ['GET', 'POST'],
      url: graphqlPath,
      constraints: { [EVENT_STREAM_CONSTRAINT]: WANTS_EVENT_STREAM },
      handler: serve(anyOperation)
    })
  }

  app.addHook('preClose', async () => {
    await Promise.all([...open].map(async (end) => await end()))
    await Promise.all(streams.reservations().filter((stream) => !stream.opened).map(purge))
    await slots.close()
  })
}

export default fp(sse, { name: 'sse', encapsulate: true, decorators: { fastify: ['auth', 'graph', 'pipeline', 'sharedState'] } })
