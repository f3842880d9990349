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

/** The answer of the last request a connection sent: the next one waits for it (see below). */
const kLastAnswer = Symbol('the last answer of this connection')
type Connection = Socket & { [kLastAnswer]?: Promise<void> }

const httpBasics: FastifyPluginAsync<HttpBasicsOptions> = async (app, options) => {
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
    // Requests pipelined on one connection run one at a time, in order. Node's HTTP server starts every
    // request of a segment at once, though their answers leave in order anyway: ten pipelined documents
    // would be read back to back while every other connection waits. Waiting costs a client nothing it
    // could have had (HTTP/1.1 answers in order), and a client that never reads holds one request, not ten.
    const connection = request.raw.socket as Connection
    const previous = connection[kLastAnswer]
    const answered = new Promise<void>((resolve) => { reply.raw.once('close', resolve) })
    connection[kLastAnswer] = answered
    if (previous === undefined) return
    await previous
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
