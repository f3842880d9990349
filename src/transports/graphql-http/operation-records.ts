import type { Context as TraceContext } from '@opentelemetry/api'
import type { FastifyInstance } from 'fastify'
import type { OperationPipeline, OperationRun } from '../../graphql/pipeline/pipeline.js'

/*
 * Each request to /graphql is one operation of the pipeline (src/graphql/pipeline), and so one
 * record (log line, metrics, span: src/plugins/operations.ts): started when the request arrives,
 * under the request's span when tracing is on; told its document, cost and context by the pipeline's
 * stages; told the errors it answered by preSerialization (every answer of these routes is an object
 * until then: the pipeline's, the door's own refusals, the error handler's); finished when the
 * answer has been sent.
 */

declare module 'fastify' {
  interface FastifyRequest {
    operation: OperationRun | null
  }
}

/** What @fastify/otel decorates requests with, when tracing is on (src/plugins/http-spans.ts). */
interface Traced {
  opentelemetry?: () => { context?: TraceContext | null }
}

export function registerOperationRecords (app: FastifyInstance, pipeline: OperationPipeline, tracing: boolean): void {
  app.decorateRequest('operation', null)
  app.addHook('onRequest', async (request) => {
    const parent = tracing ? (request as Traced).opentelemetry?.().context ?? undefined : undefined
    request.operation = pipeline.start({ transport: 'http', requestId: String(request.id), log: request.log, logNamesRequest: true, parent })
  })
  app.addHook('preSerialization', async (request, _reply, payload) => {
    const errors = typeof payload === 'object' && payload !== null && 'errors' in payload ? payload.errors : undefined
    if (Array.isArray(errors)) request.operation?.record.errors(errors)
    return payload
  })
  app.addHook('onResponse', async (request) => {
    request.operation?.finish()
  })
}
