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
  'NOT_IMPLEMENTED',
  'INTERNAL_SERVER_ERROR'
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]

export interface ErrorKind {
  /** The HTTP status of an answer that carries this code alone: a REST problem, a request a GraphQL door refuses whole. */
  readonly status: number
  /** The title of its problem (RFC 9457) on the REST door. */
  readonly title: string
}

/** What each code is over HTTP; every door reads its statuses and titles here. */
export const ERRORS: { readonly [code in ErrorCode]: ErrorKind } = {
  UNAUTHENTICATED: { status: 401, title: 'Not authenticated' },
  FORBIDDEN: { status: 403, title: 'Forbidden' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  BAD_USER_INPUT: { status: 400, title: 'Bad request' },
  CONFLICT: { status: 409, title: 'Conflict' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  QUERY_REJECTED: { status: 400, title: 'Request rejected' },
  UPSTREAM_TIMEOUT: { status: 504, title: 'Visual Layer did not answer in time' },
  UPSTREAM_UNAVAILABLE: { status: 503, title: 'Visual Layer is unavailable' },
  UPSTREAM_ERROR: { status: 502, title: 'Visual Layer failed' },
  UPSTREAM_CONTRACT: { status: 502, title: 'Visual Layer broke its contract' },
  NOT_IMPLEMENTED: { status: 501, title: 'Not available in this mode' },
  INTERNAL_SERVER_ERROR: { status: 500, title: 'Internal error' }
}

/** The problem type of a code: a URN, stable and never dereferenced (RFC 9457 §3.1.1 allows any URI). */
export function problemType (code: ErrorCode): string {
  return `urn:vl-gateway:problem:${code.toLowerCase().replaceAll('_', '-')}`
}

/** The statuses that say what went wrong whoever answered them: Visual Layer, Fastify, one of its plugins, graphql-sse. */
const CODE_OF_STATUS: Readonly<Partial<Record<number, ErrorCode>>> = {
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  429: 'RATE_LIMITED'
}

/**
 * The code of Visual Layer's answer, by its status: it rejected what was asked (400, 422), it is down
 * or overloaded (502 to 504), or it failed. A 401 is the caller's token; src/upstream/errors.ts makes it
 * UPSTREAM_ERROR when the refused token is the gateway's own service account.
 */
export function codeOfUpstreamStatus (status: number): ErrorCode {
  const named = CODE_OF_STATUS[status]
  if (named !== undefined) return named
  if (status === 400 || status === 422) return 'BAD_USER_INPUT'
  if (status === 502 || status === 503 || status === 504) return 'UPSTREAM_UNAVAILABLE'
  return 'UPSTREAM_ERROR'
}

/** The status of an error that refuses a request (4xx), as Fastify, its plugins, a door and graphql-sse set it; null for any other error. */
export function refusalStatus (err: unknown): number | null {
  const status = (err as { statusCode?: unknown } | null)?.statusCode
  return typeof status === 'number' && status >= 400 && status < 500 ? status : null
}

/**
 * The code of a request refused by Fastify, one of its plugins, a door or graphql-sse, known by its
 * 4xx status alone. A status that names no code (400, 405, 413, 415...) is a request the door cannot
 * read: `unreadable` says what the door calls that (QUERY_REJECTED on /graphql, BAD_USER_INPUT elsewhere).
 */
export function codeOfRefusal (status: number, unreadable: ErrorCode): ErrorCode {
  return CODE_OF_STATUS[status] ?? unreadable
}

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
