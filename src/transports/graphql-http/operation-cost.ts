import type { FastifyInstance } from 'fastify'
import type { MercuriusContext } from 'mercurius'
import type { GatewayContext } from '../../graphql/context.js'
import type { DocumentLimits } from '../../graphql/document.js'
import { costOf } from '../../graphql/pipeline/stages.js'
import { operationNameOf } from './document-checks.js'

/*
 * The cost of an HTTP operation: the worst case, checked once the document and its variables are
 * valid (Mercurius' preExecution hook) and refused over MAX_QUERY_COST before any upstream call;
 * then the Visual Layer calls it actually sent, kept on the request for the "request completed" log
 * line (src/logger.ts) and returned in `extensions.cost` to a caller that sends `x-gateway-cost: true`.
 */

/** An operation's context over HTTP: the gateway's, with Mercurius' reply. */
type HttpContext = MercuriusContext & GatewayContext

export interface OperationCost {
  /** The worst case computed before the operation ran; null when it could not be told (execution refused the operation). */
  readonly estimated: number | null
  /** Visual Layer requests the operation sent, retries included; reads shared or cached cost nothing. */
  readonly upstreamCalls: number
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set once a GraphQL operation reached execution; read by the request's log line. */
    operationCost: OperationCost | null
  }
}

export function registerOperationCost (app: FastifyInstance, limits: DocumentLimits): void {
  app.decorateRequest('operationCost', null)

  app.graphql.addHook<HttpContext>('preExecution', (schema, document, context, variables) => {
    const request = context.reply.request
    // The pipeline's cost stage (src/graphql/pipeline/stages.ts).
    const { cost, errors } = costOf(schema, document, limits, variables, operationNameOf(request))
    request.operationCost = { estimated: cost, upstreamCalls: 0 }
    // Logged once, as the operation's line (src/plugins/operations.ts), at info with the reason.
    if (errors !== undefined) throw errors[0]
  })

  app.graphql.addHook<Record<string, unknown>, HttpContext>('onResolution', (execution, context) => {
    const request = context.reply.request
    const cost: OperationCost = { estimated: request.operationCost?.estimated ?? null, upstreamCalls: context.call.budget?.used ?? 0 }
    request.operationCost = cost
    if (request.headers['x-gateway-cost'] === 'true') {
      execution.extensions = { ...execution.extensions, cost: { ...cost, limit: limits.maxCost ?? null } }
    }
  })
}
