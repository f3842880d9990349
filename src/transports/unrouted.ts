import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { codeOfRefusal, type ErrorCode } from '../errors.js'
import { BODY_TOO_LARGE } from './graphql-http/error-answers.js'
import { problemOf, sendProblem, type Problem } from './rest/problem.js'

/*
 * Answers for what no door serves, in the gateway's shape instead of Fastify's: a path or method
 * nobody registered (404), a URL Fastify cannot route (a path parameter over its 100 characters: 414;
 * a malformed percent-encoding: 400), an error a door without an error handler of its own let
 * through (SSE, health, GraphiQL). Under /v1 a problem (the REST door's shape), elsewhere GraphQL's
 * `{data: null, errors: [...]}`; none echoes the path. The REST door answers its own 404s.
 */

const NOT_FOUND = 'Nothing is served here with this method. The gateway serves /graphql (GraphQL over HTTP, GET and POST, and its WebSocket), ' +
  '/graphql/stream (subscriptions over SSE), the REST API under /v1 (GET /v1/openapi.json lists it), /health/live and /health/ready, ' +
  'and GraphiQL at /graphiql when it is on.'
const PARAMETER_TOO_LONG = 'A path segment is longer than the 100 characters the gateway reads: ids are UUIDs of 36 characters, such as ' +
  'ad48d250-1232-11f1-bfca-fa39f6ed1f22.'
const BAD_ENCODING = 'A path segment is not valid percent-encoding (a % starts two hex digits, and the bytes they spell are UTF-8): encode it again.'

function isRest (request: FastifyRequest): boolean {
  return /^\/v1(?:[/?]|$)/.test(request.url)
}

/** A refusal in the door's shape: a problem under /v1 (`problem` may change its type, title and status), GraphQL's error shape elsewhere. */
function answer (
  request: FastifyRequest, reply: FastifyReply, status: number, code: ErrorCode, message: string, problem: Partial<Problem> = {}
): FastifyReply {
  const requestId = String(request.id)
  void reply.header('x-request-id', requestId)
  if (isRest(request)) return sendProblem(reply, { ...problemOf(code, message, requestId), status, ...problem })
  return reply.code(status).type('application/json; charset=utf-8').send({ data: null, errors: [{ message, extensions: { code, requestId } }] })
}

/** Fastify's `frameworkErrors`: a URL its router could not read. Fastify ignores what it returns, so it sends and returns nothing. */
export function frameworkErrors (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    void answer(request, reply, 414, 'BAD_USER_INPUT', PARAMETER_TOO_LONG, { type: 'urn:vl-gateway:problem:uri-too-long', title: 'URI too long' })
    return
  }
  if (error.code === 'FST_ERR_BAD_URL') {
    void answer(request, reply, 400, 'BAD_USER_INPUT', BAD_ENCODING)
    return
  }
  request.log.error({ err: error }, 'unexpected error routing a request')
  void answer(request, reply, 500, 'INTERNAL_SERVER_ERROR', `Internal error. Quote request id ${String(request.id)} to the operators.`)
}

/** The root's not-found and error handlers: every door without its own gets them. */
export function registerUnrouted (app: FastifyInstance): void {
  app.setNotFoundHandler(async (request, reply) => await answer(request, reply, 404, 'NOT_FOUND', NOT_FOUND))
  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    const status = error.statusCode
    // A GraphQL door without a handler of its own (SSE) refuses a body too large as /graphql does.
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' && !isRest(request)) {
      request.log.info({ code: error.code, status }, 'request refused')
      return await answer(request, reply, 413, 'QUERY_REJECTED', BODY_TOO_LARGE)
    }
    // Fastify's refusals of a request it could not read (a body that is not JSON, too large) keep their status and words.
    if (status !== undefined && status >= 400 && status < 500) {
      request.log.info({ code: error.code, status }, 'request refused')
      return await answer(request, reply, status, codeOfRefusal(status, 'BAD_USER_INPUT'), error.message)
    }
    request.log.error({ err: error }, 'unexpected error serving a request')
    return await answer(request, reply, 500, 'INTERNAL_SERVER_ERROR', `Internal error. Quote request id ${String(request.id)} to the operators.`)
  })
}
