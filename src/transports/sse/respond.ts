import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Handler } from 'graphql-sse'
import { codeOfRefusal } from '../../errors.js'

/*
 * graphql-sse's server-agnostic handler on a Fastify request, as its own `use/fastify` adapter
 * does it, with what the gateway needs on top: the reply is hijacked (the stream outlives the
 * handler), an absent header is absent (that adapter reads it as the text "undefined"), the
 * library's own refusals get an error code and request id, an internal failure is logged and
 * answered in the gateway's shape, and `track` learns of every open stream, so shutdown can end it.
 * Events are written as graphql-sse makes them (waiting on each write would leave them in graphql-sse's
 * queue, which has no bound): a client that does not read has its stream ended once more than
 * `maxBufferedBytes` wait unsent.
 */

export interface RequestContext {
  readonly reply: FastifyReply
}

export interface StreamOptions {
  /** Registers a stream's end for shutdown; the returned function unregisters it. */
  track: (end: () => Promise<unknown>) => () => void
  /** Bytes a stream may hold unsent (STREAM_MAX_BUFFERED_BYTES). */
  maxBufferedBytes: number
}

export async function respond (
  handler: Handler<FastifyRequest, RequestContext>,
  request: FastifyRequest,
  reply: FastifyReply,
  { track, maxBufferedBytes }: StreamOptions,
  url = request.url
): Promise<void> {
  reply.hijack()
  const res = reply.raw
  let response
  try {
    response = await handler({
      method: request.method,
      url,
      headers: { get: (key) => headerOf(request, key) },
      body: (request.body ?? null) as Record<string, unknown> | string | null,
      raw: request,
      context: { reply }
    })
  } catch (err) {
    request.log.error({ err }, 'unexpected error serving an SSE request')
    const requestId = String(request.id)
    res.writeHead(500, { ...headersOf(reply), 'content-type': 'application/json; charset=utf-8' })
    const message = `Internal error. Quote request id ${requestId} to the operators.`
    res.end(JSON.stringify({ data: null, errors: [{ message, extensions: { code: 'INTERNAL_SERVER_ERROR', requestId } }] }))
    return
  }
  const [body, init] = response
  res.writeHead(init.status, init.statusText, { ...headersOf(reply), ...init.headers })
  if (body === null || typeof body === 'string') {
    res.end(body === null ? undefined : withCodes(body, init.status, String(request.id)))
    return
  }
  // The client left: end the stream, which completes its operations (and so leaves their pollers).
  const leave = (): void => { void body.return(undefined) }
  res.once('close', leave)
  const untrack = track(async () => await body.return(undefined))
  try {
    // Leaving the loop returns the body: its operations complete and leave their pollers.
    for await (const chunk of body) {
      if (!res.writable) break
      res.write(chunk)
      // writableLength counts what the socket has not taken yet: the kernel's buffers are full, the client does not read.
      if (res.writableLength > maxBufferedBytes) {
        request.log.info({ buffered: res.writableLength, maxBufferedBytes }, 'SSE stream ended: its client does not read what it is sent')
        res.destroy()
        break
      }
    }
  } catch (err) {
    request.log.error({ err }, 'unexpected error in an SSE stream')
  } finally {
    untrack()
    res.off('close', leave)
    if (!res.destroyed) res.end()
  }
}

function headerOf (request: FastifyRequest, key: string): string | null {
  const value = request.headers[key.toLowerCase()]
  if (value === undefined) return null
  return Array.isArray(value) ? value.join(', ') : value
}

function headersOf (reply: FastifyReply): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const [key, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(', ') : String(value)
  }
  return headers
}

/**
 * graphql-sse's own JSON refusals, which say only a message: each error with its code (by the status,
 * from the table in src/errors.ts) and the request id added, as every gateway error has.
 */
function withCodes (body: string, status: number, requestId: string): string {
  if (status < 400 || status >= 500) return body
  const code = codeOfRefusal(status, 'BAD_USER_INPUT')
  try {
    const parsed = JSON.parse(body) as { errors?: Array<{ message: string, extensions?: Record<string, unknown> }> }
    if (!Array.isArray(parsed.errors)) return body
    return JSON.stringify({ data: null, errors: parsed.errors.map((error) => ({ ...error, extensions: { code, requestId, ...error.extensions } })) })
  } catch {
    return body
  }
}
