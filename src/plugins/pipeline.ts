import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { execute, type ExecutionResult } from 'graphql'
import type { LiveQuerySettings } from '../config.js'
import { LiveQueries } from '../graphql/live-queries.js'
import { OperationPipeline } from '../graphql/pipeline/pipeline.js'
import { CallerWindows } from '../transports/allowance-windows.js'
import { abortOnLeave } from '../transports/authenticate.js'
import { ClusterSlots } from '../transports/caller-slots.js'
import { CallerAllowances } from '../transports/operation-allowance.js'
import type { Allowances } from '../transports/rate-limits.js'

/*
 * The operation pipeline every door runs operations through (`app.pipeline`, src/graphql/pipeline):
 * the graph's schema, limits and trusted documents, the domain's context, and, injected because the
 * graph layer sees no plugin nor door, the operation record (log line, metrics, span) and the
 * caller's allowance of operations a minute (per door, in this process or on Redis), and the live
 * queries (`@live`) on the pollers.
 */

declare module 'fastify' {
  interface FastifyInstance {
    pipeline: OperationPipeline
  }
}

export type PipelinePluginOptions = Allowances & { liveQueries: LiveQuerySettings }

const pipelinePlugin: FastifyPluginAsync<PipelinePluginOptions> = async (app, { liveQueries: liveSettings, ...rates }) => {
  const { graph, domain, operations } = app
  const windows = new CallerWindows(app.sharedState.windows, app.log.child({ component: 'rate-limit', door: 'graphql' }))
  // Live queries per caller, over every replica with Redis (a pool of the doors' slots of its own).
  const liveSlots = new ClusterSlots(liveSettings.perCaller, app.sharedState.slots('live'), app.log.child({ component: 'live-queries' }))
  const liveQueries = new LiveQueries(liveSettings, {
    slots: { take: async (lane) => await liveSlots.take(lane), release: (lane) => { liveSlots.release(lane) } },
    live: app.live,
    invalidations: app.invalidations,
    runs: app.liveRuns,
    context: domain.context,
    execute: async (args) => await execute(args) as ExecutionResult
  })
  app.decorate('pipeline', new OperationPipeline({
    schema: graph.schema,
    limits: graph.limits,
    trusted: graph.trusted,
    formatting: { hideSuggestions: !graph.introspection },
    context: domain.context,
    records: operations,
    allowance: new CallerAllowances(rates, windows),
    subscribe: graph.subscribe,
    liveQueries,
    abortOnLeave
  }))
  // Shutdown ends every live query (its clients get `complete`) before the doors close their connections.
  app.addHook('preClose', async () => {
    liveQueries.close()
    await liveSlots.close()
  })
}

export default fp(pipelinePlugin, { name: 'pipeline', decorators: { fastify: ['graph', 'domain', 'operations', 'sharedState', 'live', 'invalidations'] } })
