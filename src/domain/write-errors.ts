import { GatewayError, isGatewayError } from '../errors.js'
import { NotSentError, readableDetail } from '../upstream/errors.js'

/*
 * What a failed write means for the caller. A 4xx answer is a refusal: nothing happened, and the
 * caller may fix the request and try again. No answer, or a 5xx, leaves the outcome unknown: the
 * write may have happened, and the message must say how to find out. A success whose body broke the
 * contract did happen.
 */

export type WriteFailure =
  | { readonly kind: 'refused', readonly error: GatewayError, readonly status: number, readonly detail: string | null }
  | { readonly kind: 'unknown', readonly error: GatewayError, readonly what: string }
  | { readonly kind: 'unreadable', readonly error: GatewayError }
  | { readonly kind: 'other', readonly error: unknown }

const UNKNOWN_OUTCOME: ReadonlySet<string> = new Set(['UPSTREAM_TIMEOUT', 'UPSTREAM_UNAVAILABLE', 'UPSTREAM_ERROR'])

export function classifyWriteFailure (err: unknown): WriteFailure {
  if (!isGatewayError(err)) return { kind: 'other', error: err }
  // The circuit breaker stopped it before it left: nothing happened, and its message says so.
  if (err instanceof NotSentError) return { kind: 'other', error: err }
  const status = err.upstreamStatus
  if (status !== undefined && status < 500) return { kind: 'refused', error: err, status, detail: detailOf(err) }
  if (err.code === 'UPSTREAM_CONTRACT') return { kind: 'unreadable', error: err }
  if (!UNKNOWN_OUTCOME.has(err.code)) return { kind: 'other', error: err }
  const what = status !== undefined
    ? `answered HTTP ${status}`
    : err.code === 'UPSTREAM_TIMEOUT' ? 'did not answer in time' : 'could not be reached or dropped the connection'
  return { kind: 'unknown', error: err, what }
}

/**
 * The error for a write whose outcome is unknown: UPSTREAM_UNAVAILABLE for a timeout or a dropped
 * connection (as for a 502/503/504), the upstream's own code otherwise, with the caller's next step.
 */
export function unknownOutcomeError (failure: Extract<WriteFailure, { kind: 'unknown' }>, message: string): GatewayError {
  const code = failure.error.upstreamStatus === undefined ? 'UPSTREAM_UNAVAILABLE' : failure.error.code
  return rewrap(failure.error, code, message)
}

/** A new message (and code) for an upstream error, keeping its upstream status and log detail. */
export function rewrap (error: GatewayError, code: GatewayError['code'], message: string): GatewayError {
  return new GatewayError(code, message, {
    ...(error.upstreamStatus === undefined ? {} : { upstreamStatus: error.upstreamStatus }),
    logDetail: error.logDetail,
    cause: error
  })
}

/** Visual Layer's `detail` of a refusal, as one readable sentence without its final full stop. */
function detailOf (err: GatewayError): string | null {
  const logged = err.logDetail
  if (typeof logged !== 'object' || logged === null || !('body' in logged)) return null
  const detail = readableDetail(logged.body)
  return detail === null ? null : detail.trim().replace(/\.+$/, '')
}
