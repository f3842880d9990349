/**
 * The gateway's error catalogue: every error a client can see carries one of these codes in
 * `extensions.code`. Messages are for people: what went wrong and what to do next.
 */
export const ERROR_CODES = [
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'BAD_USER_INPUT',
  'CONFLICT',
  'RATE_LIMITED',
  'QUERY_REJECTED',
  'UPSTREAM_TIMEOUT',
  'UPSTREAM_UNAVAILABLE',
  'UPSTREAM_ERROR',
  'UPSTREAM_CONTRACT',
  'INTERNAL_SERVER_ERROR'
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]

export interface GatewayErrorOptions {
  /** HTTP status of the upstream answer that caused this error, when there was one. */
  upstreamStatus?: number
  /** Internal detail for the log only; never sent to a client. */
  logDetail?: unknown
  cause?: unknown
}

export class GatewayError extends Error {
  readonly code: ErrorCode
  readonly upstreamStatus: number | undefined
  readonly logDetail: unknown

  constructor (code: ErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'GatewayError'
    this.code = code
    this.upstreamStatus = options.upstreamStatus
    this.logDetail = options.logDetail
  }
}

export function isGatewayError (err: unknown): err is GatewayError {
  return err instanceof GatewayError
}
