import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { OperationPipeline } from '../graphql/pipeline/pipeline.js'
import { CallerWindows } from '../transports/allowance-windows.js'
import { CallerAllowances } from '../transports/operation-allowance.js'
import type { Allowances } from '../transports/rate-limits.js'

/*
 * The operation pipeline every door runs operations through (`app.pipeline`, src/graphql/pipeline):
 * the graph's schema, limits and trusted documents, the domain's context, and, injected because the
 * graph layer sees no plugin nor door, the operation record (log line, metrics, span) and the
 * caller's allowance of operations a minute (per door, in this process or on Redis).
 */

declare module 'fastify' {
  interface FastifyInstance {
    pipeline: OperationPipeline
  }
}

export type PipelinePluginOptions = Allowances

const pipelinePlugin: FastifyPluginAsync<PipelinePluginOptions> = async (app, rates) => {
  const { graph, domain, operations } = app
  const windows = new CallerWindows(app.sharedState.windows, app.log.child({ component: 'allowance' }))
  app.decorate('pipeline', new OperationPipeline({
    schema: graph.schema,
    limits: graph.limits,
    trusted: graph.trusted,
    formatting: { hideSuggestions: !graph.introspection },
    context: domain.context,
    records: operations,
    allowance: new CallerAllowances(rates, windows),
    subscribe: graph.subscribe
  }))
}

export default fp(pipelinePlugin, { name: 'pipeline', decorators: { fastify: ['graph', 'domain', 'operations', 'sharedState'] } })
