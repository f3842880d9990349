import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import { codeOfRefusal, ERRORS, GatewayError, problemType, refusalStatus, type ErrorCode } from '../../errors.js'

/*
 * The REST door's errors: application/problem+json (RFC 9457) with `type`, `title`, `status` and
 * `detail` (each code's, from the table in src/errors.ts), plus the gateway's own `code` (as in
 * GraphQL's extensions.code) and the `requestId`. Server-side failures are logged at warn (upstream)
 * or error (unexpected, masked); a client's mistake is never logged above info.
 */

export const PROBLEM_TYPE = 'application/problem+json'

const SERVER_SIDE: ReadonlySet<ErrorCode> = new Set(['UPSTREAM_ERROR', 'UPSTREAM_CONTRACT', 'UPSTREAM_TIMEOUT', 'UPSTREAM_UNAVAILABLE'])

export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  code: ErrorCode
  requestId: string
}

/** A code's problem: its type, title and status from the gateway's one table (src/errors.ts). */
export function problemOf (code: ErrorCode, detail: string, requestId: string): Problem {
  const { status, title } = ERRORS[code]
  return { type: problemType(code), title, status, detail, code, requestId }
}

/** The code of each problem sent, by reply: the metrics' outcome of the request. */
const codes = new WeakMap<FastifyReply, ErrorCode>()
export function problemCodeOf (reply: FastifyReply): ErrorCode | undefined {
  return codes.get(reply)
}

export function sendProblem (reply: FastifyReply, problem: Problem): FastifyReply {
  codes.set(reply, problem.code)
  if (problem.status === 401) void reply.header('www-authenticate', 'Bearer')
  return reply.code(problem.status).type(PROBLEM_TYPE).header('cache-control', 'no-store').send(problem)
}

/** Any error a handler threw, as the problem the client sees. */
export function problemFromError (err: unknown, request: FastifyRequest, log: FastifyBaseLogger = request.log): Problem {
  const requestId = String(request.id)
  if (err instanceof GatewayError) {
    if (SERVER_SIDE.has(err.code)) log.warn({ code: err.code, detail: err.logDetail }, err.message)
    return problemOf(err.code, err.message, requestId)
  }
  // Fastify's own refusals of a request (bad JSON, body too large, rate limit) keep their status and message.
  const status = refusalStatus(err)
  if (status !== null) return { ...problemOf(codeOfRefusal(status, 'BAD_USER_INPUT'), (err as Error).message, requestId), status }
  log.error({ err }, 'unexpected error in a REST handler')
  return problemOf('INTERNAL_SERVER_ERROR', `Internal error. Quote request id ${requestId} to the operators.`, requestId)
}
