import type { ServerOptions } from 'node:http'
import type { FastifyServerOptions } from 'fastify'
import type { HttpLimits } from '../config.js'

/*
 * Deadlines on what a client sends, enforced by Node's HTTP server: the headers within
 * HTTP_HEADERS_TIMEOUT_MS and the whole request within HTTP_REQUEST_TIMEOUT_MS of its start (the
 * connection's opening, or a later request's first byte on a kept-alive connection), however
 * steadily it trickles; an idle keep-alive socket is closed after HTTP_KEEP_ALIVE_TIMEOUT_MS.
 * Node counts a request only until it is received: answers, SSE and REST event streams and upgraded
 * WebSockets last as long as they need. A request past its deadline reaches the clientError handler
 * (client-errors.ts), which answers 408 in its door's shape.
 */

/** Fastify's server options for `limits`; Fastify sets requestTimeout and keepAliveTimeout, Node reads the rest at creation. */
export function serverDeadlines (limits: Pick<HttpLimits, 'headersTimeoutMs' | 'requestTimeoutMs' | 'keepAliveTimeoutMs'>):
Pick<FastifyServerOptions, 'requestTimeout' | 'keepAliveTimeout' | 'connectionTimeout'> & { http: ServerOptions } {
  return {
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // No inactivity timeout on sockets: a quiet event stream or WebSocket is not a stalled client (their keep-alives and pings tell).
    connectionTimeout: 0,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // Node looks for expired requests this often (30 s by default, which would double a 30 s deadline).
      connectionsCheckingInterval: Math.max(25, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4))
    }
  }
}
