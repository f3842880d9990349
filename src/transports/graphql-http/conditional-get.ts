import type { FastifyInstance } from 'fastify'
import { CONDITIONAL_CACHE_CONTROL, etagOf, matches } from '../conditional.js'

/*
 * GraphQL over HTTP's GET (a query by its text, or a persisted document by its id) answers as REST's
 * GETs do: a result without errors carries a strong ETag over its bytes and media type and
 * `Cache-Control: private, no-cache`; a request whose If-None-Match holds that ETag gets 304 with no
 * body. The query still runs (the answer is what tells whether it changed): what is saved is the bytes
 * to the client, and the client's parsing. An answer with errors names its request (requestId), is
 * never the same twice, and gets neither. POST answers are not cacheable in HTTP and get neither.
 */

declare module 'fastify' {
  interface FastifyRequest {
    /** Whether this GET's answer is a result without errors (its own, or a shared execution's clean body). */
    cleanResult: boolean
  }
}

export function registerConditionalGet (app: FastifyInstance): void {
  app.decorateRequest('cleanResult', false)
  app.addHook('preSerialization', async (request, _reply, payload) => {
    if (request.method === 'GET') request.cleanResult = typeof payload === 'object' && payload !== null && !('errors' in payload)
    return payload
  })
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.method !== 'GET' || !request.cleanResult || reply.statusCode !== 200 || typeof payload !== 'string') return payload
    // A cached answer's ETag was computed when it was kept (cached-answers.ts).
    const etag = request.knownEtag ?? etagOf(payload, String(reply.getHeader('content-type') ?? ''))
    void reply.header('etag', etag).header('cache-control', CONDITIONAL_CACHE_CONTROL)
    if (!matches(request.headers['if-none-match'], etag)) return payload
    void reply.code(304).removeHeader('content-type').removeHeader('content-length')
    return null
  })
}
