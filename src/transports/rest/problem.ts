import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import { ERROR_CODES, GatewayError, type ErrorCode } from '../../errors.js'

/*
 * The REST door's errors: application/problem+json (RFC 9457) with `type`, `title`, `status` and
 * `detail`, plus the gateway's own `code` (the closed list of src/errors.ts, as in GraphQL's
 * extensions.code) and the `requestId`. Server-side failures are logged at warn (upstream) or
 * error (unexpected, masked); a client's mistake is never logged above info.
 */

export const PROBLEM_TYPE = 'application/problem+json'

const STATUS: Record<ErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  BAD_USER_INPUT: 400,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  QUERY_REJECTED: 400,
  UPSTREAM_TIMEOUT: 504,
  UPSTREAM_UNAVAILABLE: 503,
  UPSTREAM_ERROR: 502,
  UPSTREAM_CONTRACT: 502,
  INTERNAL_SERVER_ERROR: 500
}

const TITLE: Record<ErrorCode, string> = {
  UNAUTHENTICATED: 'Not authenticated',
  FORBIDDEN: 'Forbidden',
  NOT_FOUND: 'Not found',
  BAD_USER_INPUT: 'Bad request',
  CONFLICT: 'Conflict',
  RATE_LIMITED: 'Too many requests',
  QUERY_REJECTED: 'Request rejected',
  UPSTREAM_TIMEOUT: 'Visual Layer did not answer in time',
  UPSTREAM_UNAVAILABLE: 'Visual Layer is unavailable',
  UPSTREAM_ERROR: 'Visual Layer failed',
  UPSTREAM_CONTRACT: 'Visual Layer broke its contract',
  INTERNAL_SERVER_ERROR: 'Internal error'
}

const SERVER_SIDE: ReadonlySet<ErrorCode> = new Set(['UPSTREAM_ERROR', 'UPSTREAM_CONTRACT', 'UPSTREAM_TIMEOUT', 'UPSTREAM_UNAVAILABLE'])

export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  code: ErrorCode
  requestId: string
}

/** The problem type of a code: a URN, stable and never dereferenced (RFC 9457 §3.1.1 allows any URI). */
export function problemType (code: ErrorCode): string {
  return `urn:vl-gateway:problem:${code.toLowerCase().replaceAll('_', '-')}`
}

export function problemOf (code: ErrorCode, detail: string, requestId: string): Problem {
  return { type: problemType(code), title: TITLE[code], status: STATUS[code], detail, code, requestId }
}

export function sendProblem (reply: FastifyReply, problem: Problem): FastifyReply {
  if (problem.status === 401) void reply.header('www-authenticate', 'Bearer')
  return reply.code(problem.status).type(PROBLEM_TYPE).header('cache-control', 'no-store').send(problem)
}

/** Fastify's own refusals of a request (bad JSON, body too large, rate limit) keep their status and message. */
function clientStatus (err: unknown): number | null {
  const status = (err as { statusCode?: unknown } | null)?.statusCode
  return typeof status === 'number' && status >= 400 && status < 500 ? status : null
}

/** Any error a handler threw, as the problem the client sees. */
export function problemFromError (err: unknown, request: FastifyRequest, log: FastifyBaseLogger = request.log): Problem {
  const requestId = String(request.id)
  if (err instanceof GatewayError) {
    if (SERVER_SIDE.has(err.code)) log.warn({ code: err.code, detail: err.logDetail }, err.message)
    return problemOf(err.code, err.message, requestId)
  }
  const status = clientStatus(err)
  if (status !== null) {
    const code: ErrorCode = status === 401 ? 'UNAUTHENTICATED' : status === 403 ? 'FORBIDDEN' : status === 429 ? 'RATE_LIMITED' : 'BAD_USER_INPUT'
    return { ...problemOf(code, (err as Error).message, requestId), status }
  }
  log.error({ err }, 'unexpected error in a REST handler')
  return problemOf('INTERNAL_SERVER_ERROR', `Internal error. Quote request id ${requestId} to the operators.`, requestId)
}

export const KNOWN_CODES: readonly ErrorCode[] = ERROR_CODES
