import { setMaxListeners } from 'node:events'
import { STATUS_CODES } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify from 'fastify'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ApiError } from './api-error.js'
import { claimedApiKey } from './auth.js'
import type { Authenticator } from './auth.js'
import type { CallLog, CallRecord } from './call-log.js'
import type { Clock } from './clock.js'
import type { FaultBox, FaultSpec } from './faults.js'
import type { Holds } from './holds.js'
import type { Latency } from './latency.js'
import type { EmulatorState } from './records.js'
import type { RouteSpec } from './route-context.js'
import { controlRoutes } from './routes/control.js'
import { datasetRoutes } from './routes/datasets.js'
import { enrichmentRoutes } from './routes/enrichment.js'
import { healthcheckRoutes } from './routes/healthcheck.js'
import { taskRoutes } from './routes/tasks.js'
import { formatIso } from './time-format.js'

export interface EmulatorParts {
  readonly clock: Clock
  state(): EmulatorState
  readonly authenticate: Authenticator
  readonly calls: CallLog
  readonly faults: FaultBox
  readonly holds: Holds
  readonly latency: Latency
  reset(): void
  /** Whether call records keep every request header. */
  readonly recordHeaders?: boolean
}

const ALL_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const

function isApiPath (path: string): boolean {
  return path === '/api/v1' || path.startsWith('/api/v1/')
}

/** The call log keeps one value per query parameter: the last, as FastAPI reads it. */
function flatQuery (query: unknown): Record<string, string> {
  const flat: Record<string, string> = {}
  for (const [name, value] of Object.entries((query ?? {}) as Record<string, string | string[]>)) {
    const last = Array.isArray(value) ? value[value.length - 1] : value
    if (last !== undefined) flat[name] = last
  }
  return flat
}

function detailReply (reply: FastifyReply, status: number, detail: unknown): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send({ detail })
}

/**
 * The emulator as a Fastify instance that never listens by itself. Every answer has Visual
 * Layer's shape: framework errors, unknown routes (404) and wrong methods (405) included.
 */
export function buildEmulatorApp (parts: EmulatorParts, logger: boolean | object): FastifyInstance {
  const app = Fastify({
    logger,
    // FastAPI answers HEAD on a GET route with 405; so do we.
    exposeHeadRoutes: false,
    // close() must not wait for a call held by a delay fault or a keep-alive client.
    forceCloseConnections: true,
    frameworkErrors: (error, _request, reply) => { void detailReply(reply, error.statusCode ?? 400, STATUS_CODES[error.statusCode ?? 400] ?? 'Bad Request') }
  })

  // Bodies stay raw text: handlers parse JSON themselves to answer FastAPI's `json_invalid`.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => { done(null, body) })

  const shutdown = new AbortController()
  // Every delayed call (latency or delay fault) waits on it: many at once under load.
  setMaxListeners(0, shutdown.signal)
  app.addHook('onClose', async () => { shutdown.abort() })
  const openCalls = new WeakMap<FastifyRequest, CallRecord>()

  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? ''
    if (!isApiPath(path)) return
    const record = parts.calls.open({
      method: request.method,
      path,
      query: flatQuery(request.query),
      apiKey: claimedApiKey(request.headers.authorization),
      requestId: typeof request.headers['x-request-id'] === 'string' ? request.headers['x-request-id'] : null,
      status: 0,
      at: formatIso(parts.clock.now()),
      // Only when sent, so that records of untraced calls keep their shape.
      ...(typeof request.headers.traceparent === 'string' ? { traceparent: request.headers.traceparent } : {}),
      ...(parts.recordHeaders === true ? { headers: Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, String(value)])) } : {})
    })
    openCalls.set(request, record)
    if (parts.latency.ms > 0) {
      try {
        await sleep(parts.latency.ms, undefined, { signal: shutdown.signal })
      } catch {
        // The emulator is closing: drop the held call rather than answer after close.
        reply.hijack()
        request.raw.socket.destroy()
        return
      }
    }
    const fault = parts.faults.take(request.method, path)
    if (fault !== undefined) await applyFault(fault, request, reply, shutdown.signal, parts.holds)
  })
  app.addHook('onResponse', async (request, reply) => {
    const record = openCalls.get(request)
    if (record !== undefined) parts.calls.answered(record, reply.statusCode)
  })

  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    if (error instanceof ApiError) return detailReply(reply.headers(error.headers), error.statusCode, error.detail)
    const status = error.statusCode
    if (status !== undefined && status >= 400 && status < 500) return detailReply(reply, status, STATUS_CODES[status] ?? 'Bad Request')
    request.log.error({ err: error }, 'emulator failure')
    return detailReply(reply, 500, 'Internal Server Error')
  })
  app.setNotFoundHandler(async (_request, reply) => detailReply(reply, 404, 'Not Found'))

  const routes: RouteSpec[] = [
    ...healthcheckRoutes(),
    ...datasetRoutes(parts),
    ...enrichmentRoutes(parts),
    ...taskRoutes(parts),
    ...controlRoutes(parts)
  ]
  const methodsByUrl = new Map<string, Set<string>>()
  for (const route of routes) {
    app.route({ method: route.method, url: route.url, handler: route.handler })
    methodsByUrl.set(route.url, (methodsByUrl.get(route.url) ?? new Set()).add(route.method))
  }
  for (const [url, methods] of methodsByUrl) {
    const allow = [...methods].join(', ')
    app.route({
      method: ALL_METHODS.filter((method) => !methods.has(method)),
      url,
      handler: async (_request, reply) => detailReply(reply.header('allow', allow), 405, 'Method Not Allowed')
    })
  }
  return app
}

async function applyFault (
  fault: FaultSpec, request: FastifyRequest, reply: FastifyReply, shutdown: AbortSignal, holds: Holds
): Promise<FastifyReply | undefined> {
  if (fault.hold !== undefined) {
    const left = new AbortController()
    const socket = request.raw.socket
    const leave = (): void => { left.abort() }
    socket.once('close', leave)
    if (socket.destroyed) left.abort()
    // The client left, or the emulator is closing: the held call is dropped rather than answered.
    if (!await holds.wait(fault.hold, AbortSignal.any([shutdown, left.signal]))) fault = { ...fault, drop: true }
    socket.off('close', leave)
  }
  if (fault.delayMs !== undefined && fault.delayMs > 0) {
    try {
      await sleep(fault.delayMs, undefined, { signal: shutdown })
    } catch {
      // The emulator is closing: drop the held call rather than answer after close.
      fault = { ...fault, drop: true }
    }
  }
  if (fault.drop === true) {
    reply.hijack()
    request.raw.socket.destroy()
    return reply
  }
  if (fault.status === undefined) return undefined
  reply.code(fault.status).headers(fault.headers ?? {})
  if (typeof fault.body === 'string') return reply.type('text/plain; charset=utf-8').send(fault.body)
  const body = fault.body === undefined ? { detail: STATUS_CODES[fault.status] ?? 'Error' } : fault.body
  return reply.type('application/json; charset=utf-8').send(JSON.stringify(body))
}
