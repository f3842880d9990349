import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import type { Caller } from '../../auth/index.js'
import type { LiveContext } from '../../domain/live/watch.js'
import { abortOnLeave } from '../authenticate.js'
import type { RestOperation } from './openapi.js'
import { problemOf, sendProblem } from './problem.js'
import { describeIssue } from './schemas.js'

/*
 * How a REST route is declared: once, for both Fastify and the OpenAPI document, with its path,
 * query and body parsed by its zod schemas before its handler runs (a bad one answers 400 naming
 * it), and each request's operation context (`app.domain.context`), which the client leaving aborts.
 */

export interface Parsed<P, Q> { params: P, query: Q }

type Schema = z.ZodType

function parse<P extends Schema, Q extends Schema> (
  request: FastifyRequest, reply: FastifyReply, params: P | null, query: Q
): Parsed<z.output<P>, z.output<Q>> | null {
  const requestId = String(request.id)
  const parsedParams = params === null ? { success: true as const, data: {} } : params.safeParse(request.params)
  if (!parsedParams.success) {
    void sendProblem(reply, problemOf('BAD_USER_INPUT', describeIssue('path', parsedParams.error, request.params), requestId))
    return null
  }
  // A repeated parameter is a list: named as such, whatever the parameter's own schema would say of a list (an unknown one is unknown first).
  const known = query instanceof z.ZodObject ? query.shape : {}
  const repeated = Object.entries((request.query ?? {}) as Record<string, unknown>).find(([name, value]) => Array.isArray(value) && name in known)
  if (repeated !== undefined) {
    void sendProblem(reply, problemOf('BAD_USER_INPUT', `Query parameter ${repeated[0]} must be given once, as text.`, requestId))
    return null
  }
  const parsedQuery = query.safeParse(request.query ?? {})
  if (!parsedQuery.success) {
    void sendProblem(reply, problemOf('BAD_USER_INPUT', describeIssue('query', parsedQuery.error, request.query), requestId))
    return null
  }
  return { params: parsedParams.data as z.output<P>, query: parsedQuery.data as z.output<Q> }
}

/** The domain's operation context of a REST request. */
export type RestContext = LiveContext & { readonly caller: Caller }

export type RouteHandler<P, Q, B> = (request: FastifyRequest, reply: FastifyReply, parsed: Parsed<P, Q> & { body: B }) => Promise<FastifyReply>

export interface Routes {
  /** A route and its entry in the OpenAPI document, from one declaration. */
  route: <P extends z.ZodObject, Q extends z.ZodObject, B extends z.ZodObject = z.ZodObject>(
    operation: RestOperation & { params?: P, query: Q, body?: B, config?: { public: boolean } },
    handler: RouteHandler<z.output<P>, z.output<Q>, z.output<B>>
  ) => void
  /** The request's operation context; the client leaving aborts its upstream reads. */
  contextOf: (request: FastifyRequest, reply: FastifyReply) => RestContext
  /** Every route declared so far, for the OpenAPI document. */
  readonly operations: readonly RestOperation[]
}

export function restRoutes (app: FastifyInstance): Routes {
  const operations: RestOperation[] = []
  return {
    operations,
    contextOf: (request, reply) => {
      if (request.caller === null) throw new Error('unreachable: onRequest authenticates every request')
      return app.domain.context(request.caller, String(request.id), abortOnLeave(reply.raw))
    },
    route: (operation, handler) => {
      operations.push(operation)
      app.route({
        method: operation.method,
        url: operation.url,
        config: { public: operation.config?.public ?? false, operationId: operation.operationId },
        handler: async (request, reply) => {
          const parsed = parse(request, reply, operation.params ?? null, operation.query)
          if (parsed === null) return reply
          let body: unknown
          if (operation.body !== undefined) {
            const result = operation.body.safeParse(request.body)
            if (!result.success) return sendProblem(reply, problemOf('BAD_USER_INPUT', describeIssue('body', result.error, request.body), String(request.id)))
            body = result.data
          }
          return await handler(request, reply, { ...(parsed as Parsed<never, never>), body: body as never })
        }
      })
    }
  }
}
