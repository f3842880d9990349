import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import { GatewayError } from '../../errors.js'
import { CONDITIONAL_CACHE_CONTROL, etagOf, matches } from '../conditional.js'

/*
 * How a REST answer is written: the domain's mapped objects as plain JSON (a field Visual Layer
 * broke is a getter that throws UPSTREAM_CONTRACT; here it becomes null and is logged, as GraphQL
 * nulls that field and reports it), a strong ETag over the exact bytes sent, If-None-Match answered
 * 304, and `Cache-Control: private, no-cache` (a client may keep the answer, but asks again first).
 */

/** A copy of `value` with only own enumerable data: each field that throws becomes null. */
export function plain (value: unknown, log: FastifyBaseLogger, path = ''): unknown {
  if (Array.isArray(value)) return value.map((item, index) => plain(item, log, `${path}[${index}]`))
  if (value === null || typeof value !== 'object') return value
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(value)) {
    let field: unknown
    try {
      field = (value as Record<string, unknown>)[key]
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err
      log.warn({ code: err.code, field: `${path}${key}`, detail: err.logDetail }, err.message)
      field = null
    }
    out[key] = plain(field, log, `${path}${key}.`)
  }
  return out
}

export { etagOf, matches } from '../conditional.js'

/** A GET's answer: JSON with its ETag, or 304 when the client already has these bytes. */
export function sendRepresentation (request: FastifyRequest, reply: FastifyReply, body: unknown): FastifyReply {
  return sendJsonText(request, reply, JSON.stringify(body))
}

/** The same, for JSON already written. */
export function sendJsonText (request: FastifyRequest, reply: FastifyReply, text: string): FastifyReply {
  const etag = etagOf(text)
  void reply.header('etag', etag).header('cache-control', CONDITIONAL_CACHE_CONTROL)
  if (matches(request.headers['if-none-match'], etag)) return reply.code(304).send()
  return reply.type('application/json; charset=utf-8').send(text)
}
