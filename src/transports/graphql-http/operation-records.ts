import type { Context as TraceContext } from '@opentelemetry/api'
import type { FastifyInstance } from 'fastify'
import type { GraphQLOperationRecord, Operations } from '../../plugins/operations.js'

/*
 * Each request to /graphql is one operation record (src/plugins/operations.ts): started when the
 * request arrives, under the request's span when tracing is on; told its budget and trace context
 * by the operation context, its document by Mercurius' preExecution hook, the errors it answered by
 * preSerialization (every answer of these routes is an object until then: Mercurius', the document
 * checks', the error handler's); finished when the answer has been sent.
 */

declare module 'fastify' {
  interface FastifyRequest {
    operation: GraphQLOperationRecord | null
  }
}

/** What @fastify/otel decorates requests with, when tracing is on (src/plugins/http-spans.ts). */
interface Traced {
  opentelemetry?: () => { context?: TraceContext | null }
}

export function registerOperationRecords (app: FastifyInstance, operations: Operations): void {
  app.decorateRequest('operation', null)
  app.addHook('onRequest', async (request) => {
    const parent = operations.tracing ? (request as Traced).opentelemetry?.().context ?? undefined : undefined
    request.operation = operations.start({ transport: 'http', requestId: String(request.id), log: request.log, logNamesRequest: true, parent })
  })
  app.addHook('preSerialization', async (request, _reply, payload) => {
    if (typeof payload === 'object' && payload !== null && 'errors' in payload && Array.isArray(payload.errors)) request.operation?.errors(payload.errors)
    return payload
  })
  app.addHook('onResponse', async (request) => {
    request.operation?.finish()
  })
}
