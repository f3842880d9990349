import { context, propagation, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api'
import type { Readable } from 'node:stream'
import { Pool } from 'undici'
import type { FastifyBaseLogger } from 'fastify'
import type { UpstreamSettings } from '../config.js'
import { GatewayError } from '../errors.js'
import { upstreamNetworkError, upstreamTooLargeError, type FailedCall } from './errors.js'
import { queryString, type Attempt, type Credential, type Exchange, type Send, type UpstreamRequest } from './exchange.js'
import { NO_UPSTREAM_OBSERVER, type UpstreamObserver } from './observer.js'
import type { ServiceTokens } from './token.js'
import { currentIncomingTrace } from './trace-context.js'

/*
 * One HTTP exchange with Visual Layer on the undici pool: connect, headers and body timeouts inside
 * the call's overall deadline, a cap on the answer's size, its JSON parsed, and a network failure
 * translated into a GatewayError. Every other rule lives in the layers around it.
 *
 * Each request sent is told to the observer (metrics) and, inside a traced operation, gets a client
 * span named by its path template, whose W3C `traceparent` goes to Visual Layer. The spans are made
 * here by hand rather than by the undici instrumentation: it would name them by method alone (no
 * path template), sees nothing of the retries, and needs a hook into module loading.
 */

export interface SendOptions {
  settings: Pick<UpstreamSettings, 'connections' | 'connectTimeoutMs' | 'timeoutMs' | 'maxResponseBytes'> & { baseUrl: string }
  /** The service account's tokens; null when only caller tokens are forwarded. */
  serviceTokens: ServiceTokens | null
  logger: FastifyBaseLogger
  observer?: UpstreamObserver
}

export interface Sender {
  readonly send: Send
  close: () => Promise<void>
}

/**
 * Starts a logical call's one overall deadline: every try of it, and every wait between, fits in it.
 * `end()` once the call has its answer clears the timer and leaves the caller's signal. One signal
 * of its own, not AbortSignal.timeout and AbortSignal.any: a timeout signal's timer cannot be cleared
 * (it fires, with an exception and an event, for every call still referenced), and a composite
 * signal follows its sources through weak references; together they were 3 % of the gateway's CPU
 * on requests that share nothing (docs/performance.md).
 */
export function startDeadline (exchange: Exchange, timeoutMs: number): Attempt & { end: () => void } {
  const controller = new AbortController()
  const deadline = { passed: false }
  const timer = setTimeout(() => {
    deadline.passed = true
    controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))
  }, timeoutMs)
  // Like AbortSignal.timeout's: a call in flight does not keep a closing process alive.
  timer.unref()
  const endsAt = performance.now() + timeoutMs
  const cancel = exchange.call.signal
  const onCancel = (): void => { controller.abort(cancel?.reason) }
  if (cancel?.aborted === true) onCancel()
  else cancel?.addEventListener('abort', onCancel, { once: true })
  const end = (): void => {
    clearTimeout(timer)
    cancel?.removeEventListener('abort', onCancel)
  }
  return { ...exchange, signal: controller.signal, deadline, endsAt, end }
}

export function createSender (options: SendOptions): Sender {
  const { settings, serviceTokens, logger: log } = options
  const observer = options.observer ?? NO_UPSTREAM_OBSERVER
  const tracer = trace.getTracer('visual-layer-gateway')
  const url = new URL(settings.baseUrl)
  const basePath = url.pathname.replace(/\/+$/, '')
  const pool = new Pool(url.origin, {
    connections: settings.connections,
    // undici 8 speaks HTTP/2 when a TLS server offers it: one connection would then carry up to 100
    // calls at once, and UPSTREAM_CONNECTIONS would no longer bound the calls in flight. HTTP/1.1 only.
    allowH2: false,
    connect: { timeout: settings.connectTimeoutMs },
    headersTimeout: settings.timeoutMs,
    bodyTimeout: settings.timeoutMs
  })

  const send: Send = async ({ request, call, failed, signal, deadline }) => {
    // Every request actually sent takes one from the operation's allowance (see call-budget-ledger.ts).
    call.budget?.take()
    const token = tokenFor(call.credential, serviceTokens)
    const headers: Record<string, string> = { accept: 'application/json' }
    if (token !== null) headers.authorization = `Bearer ${token}`
    if (call.requestId !== undefined) headers['x-request-id'] = call.requestId
    let body: string | undefined
    if (request.method === 'POST' && request.body !== undefined) {
      body = JSON.stringify(request.body)
      headers['content-type'] = 'application/json'
    }
    const path = basePath + request.path + queryString(request.method === 'GET' ? request.query : undefined)
    const span = startSpan(request, path)
    // The trace context of the gateway's own span; never baggage, whatever propagator is registered:
    // what a caller put in it is theirs, not something to hand Visual Layer.
    if (span !== null) {
      propagation.inject(propagation.deleteBaggage(trace.setSpan(context.active(), span)), headers)
    } else {
      // No span of the gateway's own: the caller's trace context passes through unchanged (trace-context.ts).
      const incoming = currentIncomingTrace()
      if (incoming !== undefined) {
        headers.traceparent = incoming.traceparent
        if (incoming.tracestate !== undefined) headers.tracestate = incoming.tracestate
      }
    }
    const started = performance.now()
    let status: number | null = null
    const settle = (error: string | null): void => {
      observer.request(request.endpoint, request.method, { status, error }, (performance.now() - started) / 1000)
      if (span === null) return
      if (error !== null) {
        span.setAttribute('error.type', error)
        span.setStatus({ code: SpanStatusCode.ERROR })
      }
      span.end()
    }
    try {
      const res = await pool.request({ method: request.method, path, headers, body, signal })
      status = res.statusCode
      span?.setAttribute('http.response.status_code', res.statusCode)
      const text = await readCapped(res.body, settings.maxResponseBytes, failed)
      log.debug({
        requestId: call.requestId,
        upstream: { method: request.method, path: request.path, status: res.statusCode, ms: Math.round(performance.now() - started) }
      }, 'upstream call')
      // HTTP client semantic conventions: a 4xx or 5xx answer is an error of the client span.
      settle(res.statusCode >= 400 ? String(res.statusCode) : null)
      return { status: res.statusCode, body: parseJson(text), token, retryAfter: res.headers['retry-after'] }
    } catch (err) {
      if (err instanceof GatewayError) {
        settle('response_too_large')
        throw err
      }
      if (call.signal?.aborted === true) {
        settle('cancelled')
        throw err
      }
      const timedOut = deadline.passed
      settle(timedOut ? 'timeout' : ((err as { code?: string }).code ?? 'network_error'))
      // Past the overall deadline there is no time left to try again.
      const failure = upstreamNetworkError(timedOut ? Object.assign(new Error('deadline exceeded'), { code: 'UPSTREAM_DEADLINE' }) : err, failed, !timedOut)
      log.warn({
        requestId: call.requestId,
        upstream: { method: request.method, path: request.path, ms: Math.round(performance.now() - started) },
        cause: failure.logDetail
      }, 'upstream call failed')
      throw failure
    }
  }

  /**
   * A client span under the active one, and its `traceparent` in `headers`; none outside a traced
   * operation (pollers, health checks), so that tracing off costs one context lookup.
   */
  function startSpan (request: UpstreamRequest, path: string): Span | null {
    const parent = context.active()
    if (trace.getSpan(parent)?.isRecording() !== true) return null
    return tracer.startSpan(`${request.method} ${request.endpoint}`, {
      kind: SpanKind.CLIENT,
      attributes: {
        'http.request.method': request.method,
        'url.template': request.endpoint,
        'url.full': url.origin + path,
        'server.address': url.hostname,
        'server.port': Number(url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : url.port)
      }
    }, parent)
  }

  return { send, close: async () => { await pool.close() } }
}

function tokenFor (credential: Credential | null, serviceTokens: ServiceTokens | null): string | null {
  if (credential === null) return null
  if (credential.kind === 'bearer') return credential.token
  if (credential.kind === 'anonymous') {
    throw new GatewayError('UNAUTHENTICATED', 'This request carries no credential: send "Authorization: Bearer <token>".')
  }
  if (serviceTokens === null) {
    throw new GatewayError('INTERNAL_SERVER_ERROR', 'The gateway has no service account to call Visual Layer with.')
  }
  return serviceTokens.token()
}

function parseJson (text: string): unknown {
  if (text === '') return null
  try {
    return JSON.parse(text)
  } catch {
    // Not JSON (a proxy's error page): keep it out of the error, it may carry internals.
    return undefined
  }
}

/**
 * The body as text, refused past `limit` bytes. Read by its events rather than an async iterator,
 * which costs a stream-end watcher and a promise per chunk; a body closed before its end (the
 * connection reset, the call aborted) rejects, so the read never hangs.
 */
async function readCapped (body: Readable, limit: number, failed: FailedCall): Promise<string> {
  return await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let settled = false
    body.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        settled = true
        reject(upstreamTooLargeError(failed, limit))
        body.destroy()
        return
      }
      chunks.push(chunk)
    })
    body.once('end', () => {
      settled = true
      resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'))
    })
    body.once('error', (err) => {
      settled = true
      reject(err)
    })
    // Every body closes: an error (and its stack) only for one that closed before its end or an error.
    body.once('close', () => { if (!settled) reject(Object.assign(new Error('the answer ended before its end'), { code: 'UND_ERR_SOCKET' })) })
  })
}
