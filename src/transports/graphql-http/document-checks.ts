import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { getOperationAST, type GraphQLError, type GraphQLSchema, type OperationTypeNode } from 'graphql'
import { readDocument, type DocumentLimits } from '../../graphql/document.js'
import { formatError } from '../../graphql/error-formatter.js'

/*
 * HTTP documents pass the gateway's limits (src/graphql/document.ts) before Mercurius sees them:
 * Mercurius would parse with no memory of the limits, and read a text that is not GraphQL as a JSON
 * syntax tree, which no token limit bounds. Registered inside the graphql-http plugin: its routes only.
 * A document that passes leaves its operation's type on the request, for the rate limit.
 */

declare module 'fastify' {
  interface FastifyRequest {
    /** The type of the operation the request runs, once its document passed the checks; null before, or when none is chosen. */
    operationType: OperationTypeNode | null
  }
}

export function registerDocumentChecks (app: FastifyInstance, schema: GraphQLSchema, limits: DocumentLimits): void {
  app.decorateRequest('operationType', null)
  const refuse = (request: FastifyRequest, reply: FastifyReply, errors: readonly GraphQLError[]): FastifyReply => {
    request.log.info({ reason: errors[0]?.message.slice(0, 200) }, 'document refused')
    const requestId = String(request.id)
    return reply.code(400).send({ data: null, errors: errors.map((error) => formatError(error, requestId, request.log)) })
  }

  // Before the route's schema coerces it: a number or a list would become a string and run.
  app.addHook('preValidation', async (request, reply) => {
    const source = queryOf(request)
    if (source === undefined || source === null || typeof source === 'string') return
    return refuse(request, reply, readDocument(schema, source, limits).errors ?? [])
  })

  // After authentication: a caller without a token learns only that it needs one.
  app.addHook('preHandler', async (request, reply) => {
    const source = queryOf(request)
    // A missing query is Mercurius' to answer.
    if (source === undefined || source === null || source === '') return
    const { document, errors } = readDocument(schema, source, limits)
    if (errors !== undefined) return refuse(request, reply, errors)
    const operationName = operationNameOf(request)
    request.operationType = getOperationAST(document, typeof operationName === 'string' ? operationName : undefined)?.operation ?? null
  })
}

function operationNameOf (request: FastifyRequest): unknown {
  const body = request.body
  if (typeof body === 'object' && body !== null && 'operationName' in body) return body.operationName
  return (request.query as { operationName?: unknown } | undefined)?.operationName
}

/** The document of a POST body (JSON or application/graphql) or of a GET query string. */
function queryOf (request: FastifyRequest): unknown {
  const body = request.body
  if (typeof body === 'object' && body !== null && 'query' in body) return body.query
  return (request.query as { query?: unknown } | undefined)?.query
}
