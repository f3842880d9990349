import cors from '@fastify/cors'
import type { Socket } from 'node:net'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { incomingTrace, withIncomingTrace } from '../upstream/trace-context.js'

/*
 * What every HTTP request and answer of the gateway gets, whichever door it comes from: its request id in
 * a header, pipelined requests run one at a time, the caller's trace context passed on to Visual Layer,
 * `connection: close` while the gateway shuts down, and CORS for the configured origins.
 */

export interface HttpBasicsOptions {
  /** Browser origins allowed to call from another origin; empty: CORS is not registered. */
  corsOrigins: readonly string[]
  /** Request headers those origins may send besides the list below (CORS_ALLOWED_HEADERS). */
  corsAllowedHeaders: readonly string[]
}

// The preflight-forcing headers of CSRF prevention and x-gateway-cost (src/transports/graphql-http);
// REST's idempotency key, conditional GETs and event-stream reconnects (src/transports/rest); what
// browser clients add on their own: W3C trace context (OpenTelemetry's fetch instrumentation) and
// Apollo Client's name and version (clientAwareness).
const ALLOWED_HEADERS = [
  'authorization', 'content-type', 'x-request-id', 'x-graphql-event-stream-token',
  'graphql-preflight', 'apollo-require-preflight', 'x-apollo-operation-name', 'x-gateway-cost',
  'idempotency-key', 'if-none-match', 'last-event-id',
  'traceparent', 'tracestate', 'apollographql-client-name', 'apollographql-client-version'
]

/** The answer of the last request a connection sent, until it is answered: the next one waits for it (see below). */
const kLastAnswer = Symbol('the last answer of this connection')
type Connection = Socket & { [kLastAnswer]?: Promise<void> }

/**
 * Pipelined requests whose turn on their connection came, started one per event-loop turn in the order
 * they became ready. Node accepts one new connection per turn (libuv polls the listening socket once per
 * turn), so a turn must stay short for a caller that is connecting: were every connection's pipelined
 * requests run back to back as their predecessors are answered, twenty connections of twenty requests
 * each would put four hundred answers ahead of the next accept. Holds at most one request per connection.
 */
class PipelineTurns {
  private readonly ready: Array<() => void> = []
  private scheduled = false

  async wait (): Promise<void> {
    await new Promise<void>((resolve) => {
      this.ready.push(resolve)
      this.schedule()
    })
  }

  private schedule (): void {
    if (this.scheduled) return
    this.scheduled = true
    // An immediate set while immediates run waits for the next turn: one start per turn, after its poll.
    setImmediate(() => {
      this.scheduled = false
      this.ready.shift()?.()
      if (this.ready.length > 0) this.schedule()
    })
  }
}

const httpBasics: FastifyPluginAsync<HttpBasicsOptions> = async (app, options) => {
  const turns = new PipelineTurns()
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
    // Requests pipelined on one connection run one at a time, in order. Node's HTTP server starts every
    // request of a segment at once, though their answers leave in order anyway: ten pipelined documents
    // would be read back to back while every other connection waits. Waiting costs a client nothing it
    // could have had (HTTP/1.1 answers in order), and a client that never reads holds one request, not ten.
    // A request that waited for its predecessor then waits for its turn among all connections' (above);
    // one that came after its predecessor was answered (a keep-alive client's next request) does not.
    const connection = request.raw.socket as Connection
    const previous = connection[kLastAnswer]
    const answered: Promise<void> = new Promise<void>((resolve) => {
      reply.raw.once('close', () => {
        if (connection[kLastAnswer] === answered) delete connection[kLastAnswer]
        resolve()
      })
    })
    connection[kLastAnswer] = answered
    if (previous === undefined) return
    await previous
    await turns.wait()
    // The client went away while its request waited: nobody is left to answer.
    if (request.raw.destroyed || !connection.writable) reply.hijack()
  })

  // A caller's W3C trace context reaches Visual Layer even when the gateway does not trace
  // (src/upstream/trace-context.ts). After the body is read: its stream's events run in the socket's
  // context, not the request's.
  app.addHook('preValidation', (request, _reply, done) => {
    const trace = incomingTrace(request.headers)
    if (trace === null) done()
    else withIncomingTrace(trace, done)
  })

  // While closing, answers to in-flight requests end their keep-alive connections; otherwise the
  // server would wait on them after they went idle and shutdown would hang until its deadline.
  let closing = false
  app.addHook('preClose', async () => { closing = true })
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close')
  })

  // Frontends served from another origin may call the gateway only from the origins configured.
  if (options.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: [...options.corsOrigins],
      // PUT, DELETE and the stream token: graphql-sse's single-connection mode (src/transports/sse).
      methods: ['GET', 'POST', 'PUT', 'DELETE'],
      allowedHeaders: [...new Set([...ALLOWED_HEADERS, ...options.corsAllowedHeaders])],
      // REST: a page's links, a GET's entity tag, where an enrichment's copy is, when to retry.
      exposedHeaders: ['x-request-id', 'etag', 'link', 'location', 'retry-after'],
      maxAge: 600
    })
  }
}

export default fp(httpBasics, { name: 'http-basics' })
