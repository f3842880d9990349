import { codeOfUpstreamStatus, GatewayError, type ErrorCode, type GatewayErrorOptions } from '../errors.js'
import { errorBodySchema } from './schemas.js'

/*
 * Translation of upstream failures into the gateway's errors, done once, here. Messages name what
 * failed and what to do; they never carry an upstream URL, token or body of a 5xx answer.
 */

export type CredentialKind = 'service' | 'bearer' | 'anonymous'

export interface FailedCall {
  method: string
  /** What the call was about, for people: "dataset 4f1c...", "the task list". */
  what: string
  credential: CredentialKind
}

/** Visual Layer's `detail`, made readable: a string as is, FastAPI's list form as one sentence. */
export function readableDetail (body: unknown): string | null {
  const parsed = errorBodySchema.safeParse(body)
  if (!parsed.success) return null
  const { detail } = parsed.data
  if (typeof detail === 'string') return detail
  const parts = detail.map((item) => {
    const where = (item.loc ?? []).filter((part) => part !== 'body' && part !== 'query' && part !== 'path').join('.')
    return where === '' ? (item.msg ?? 'invalid') : `${where}: ${item.msg ?? 'invalid'}`
  })
  return parts.length === 0 ? null : parts.join('; ')
}

export function upstreamStatusError (status: number, body: unknown, call: FailedCall): GatewayError {
  const detail = readableDetail(body)
  const said = detail === null ? '' : `: ${detail}`
  const opts = { upstreamStatus: status, logDetail: { status, body } }
  const make = (code: ErrorCode, message: string): GatewayError => new GatewayError(code, message, opts)
  switch (codeOfUpstreamStatus(status)) {
    case 'UNAUTHENTICATED':
      return call.credential === 'service'
        ? make(
          'UPSTREAM_ERROR',
          'Visual Layer refused the gateway\'s service account (HTTP 401); the caller is not at fault. Check VL_API_KEY and VL_API_SECRET.'
        )
        : new TokenRefusedError('UNAUTHENTICATED', `Visual Layer refused your token${said}. Sign a fresh Visual Layer JWT and try again.`, opts)
    case 'FORBIDDEN': return make('FORBIDDEN', `Visual Layer does not allow this on ${call.what}${said}.`)
    case 'NOT_FOUND': return make('NOT_FOUND', `Visual Layer has no ${call.what}, or you may not see it.`)
    case 'CONFLICT': return make('CONFLICT', `Visual Layer refused this on ${call.what} in its current state${said}.`)
    case 'BAD_USER_INPUT': return make('BAD_USER_INPUT', `Visual Layer rejected the request for ${call.what}${said}.`)
    case 'RATE_LIMITED': return make('RATE_LIMITED', 'Visual Layer is rate-limiting requests; try again in a moment.')
    case 'UPSTREAM_UNAVAILABLE':
      return make('UPSTREAM_UNAVAILABLE', `Visual Layer is unavailable (HTTP ${status}) while reading ${call.what}; try again shortly.${outcomeUnknown(call)}`)
    default:
      return make(
        'UPSTREAM_ERROR',
        `Visual Layer failed (HTTP ${status}) while handling ${call.what}; try again, and contact Visual Layer support if it persists.${outcomeUnknown(call)}`
      )
  }
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UPSTREAM_DEADLINE'])

/** Visual Layer could not be reached, or did not answer in time. */
export class UpstreamNetworkError extends GatewayError {
  constructor (code: ErrorCode, message: string, options: GatewayErrorOptions, readonly retryable: boolean) {
    super(code, message, options)
  }
}

/** `retryable` is false once the call's deadline has passed: no time is left to try again. */
export function upstreamNetworkError (err: unknown, call: FailedCall, retryable: boolean): UpstreamNetworkError {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : 'UNKNOWN'
  const opts = { logDetail: { code, message: err instanceof Error ? err.message : String(err) }, cause: err }
  if (TIMEOUT_CODES.has(code)) {
    return new UpstreamNetworkError(
      'UPSTREAM_TIMEOUT',
      `Visual Layer did not answer in time for ${call.what}.${outcomeUnknown(call) || ' Try again shortly.'}`,
      opts,
      retryable
    )
  }
  return new UpstreamNetworkError(
    'UPSTREAM_UNAVAILABLE',
    `Visual Layer could not be reached for ${call.what}.${outcomeUnknown(call) || ' Try again shortly.'}`,
    opts,
    retryable
  )
}

export function upstreamContractError (call: FailedCall, issues: unknown): GatewayError {
  return new GatewayError(
    'UPSTREAM_CONTRACT',
    `Visual Layer answered with data its documentation does not allow for ${call.what}; the gateway cannot use it. This is logged for the operators.`,
    { logDetail: issues }
  )
}

export function upstreamTooLargeError (call: FailedCall, limit: number): GatewayError {
  return new GatewayError(
    'UPSTREAM_ERROR',
    `Visual Layer's answer for ${call.what} is larger than the gateway accepts (${limit} bytes).`,
    { logDetail: { limit } }
  )
}

/** A call the gateway did not send at all (its outcome is known: nothing happened). */
export class NotSentError extends GatewayError {}

/**
 * Visual Layer refused the caller's own token (401), now or on an earlier call: the whole operation
 * is answered as the gateway's own refusals are (HTTP 401), not as one failed field among others.
 */
export class TokenRefusedError extends GatewayError {}

/** A token Visual Layer refused before: nothing more is sent with it. */
export function tokenRefusedEarlierError (call: FailedCall): TokenRefusedError {
  return new TokenRefusedError(
    'UNAUTHENTICATED',
    `Visual Layer refused your token; nothing was sent for ${call.what}. Sign a fresh Visual Layer JWT and try again.`,
    { logDetail: { refused: 'earlier' } }
  )
}

/** The operation's upstream call budget is spent: nothing was sent. */
export class BudgetExceededError extends NotSentError {}

export function budgetExceededError (call: FailedCall, max: number): BudgetExceededError {
  return new BudgetExceededError(
    'QUERY_REJECTED',
    `This operation reached the most calls to Visual Layer one operation may make (${max}, MAX_UPSTREAM_CALLS_PER_OPERATION); nothing was sent for ${call.what}. Ask for fewer items or aliases, or split the document into several requests.`,
    { logDetail: { budget: max } }
  )
}

/** A breaker refused the call: the shared one (Visual Layer is down for everyone), or the call's own (`scoped`: this account's requests of this kind). */
export function breakerOpenError (call: FailedCall, retryInMs: number, scoped = false): NotSentError {
  const seconds = Math.max(1, Math.ceil(retryInMs / 1000))
  return new NotSentError(
    'UPSTREAM_UNAVAILABLE',
    scoped
      ? `Visual Layer has been failing for your requests of this kind, so the gateway is not sending them for about ${seconds} s; nothing was sent for ${call.what}. Try again shortly.`
      : `Visual Layer has been failing, so the gateway is not calling it for about ${seconds} s; nothing was sent for ${call.what}. Try again shortly.`,
    { logDetail: { breaker: scoped ? 'scoped' : 'open' } }
  )
}

/**
 * Errors that every later call of the operation would meet alike (its token refused, its call
 * budget spent): a list reports one, not one per item (thousands of errors cost more than the calls).
 */
export function failsTheOperation (err: unknown): err is GatewayError {
  return err instanceof TokenRefusedError || err instanceof BudgetExceededError
}

/** A write whose outcome is not known must say so, and how to find out. */
function outcomeUnknown (call: FailedCall): string {
  return call.method === 'GET' ? '' : ' The outcome of the request is unknown: check the state before trying again.'
}
