import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import type { ExecutionArgs, ExecutionResult, GraphQLSchema } from 'graphql'
import { ConfigError, type Config } from '../config.js'
import { CostChecks } from '../graphql/cost-checks.js'
import { DocumentCache, type DocumentLimits } from '../graphql/document.js'
import { ReadTurns } from '../graphql/read-turns.js'
import { SharedEvents } from '../graphql/shared-events.js'
import { aliasLimit, depthLimit, directiveLimit, fieldLimit, liveOnQueriesOnly, noIntrospection } from '../graphql/limits.js'
import { buildSchema } from '../graphql/schema.js'
import { readManifest, TrustedDocuments } from '../graphql/trusted-documents.js'
import { countSubscriptions } from './metrics.js'

/*
 * The graph every door serves (`app.graph`): one executable schema and the limits a document passes
 * before it runs. The context each operation runs with is the domain's (`app.domain`, domain.ts).
 */

export interface Graph {
  readonly schema: GraphQLSchema
  readonly limits: DocumentLimits
  /** graphql's `subscribe`, each event resolved once per scope and selection (see shared-events.ts): every door's subscriptions. */
  readonly subscribe: (args: ExecutionArgs) => Promise<AsyncGenerator<ExecutionResult> | ExecutionResult>
  /** Whether __schema and __type may be asked; when not, error messages suggest no names either. */
  readonly introspection: boolean
  /** The documents a request may name by id, and whether only those may run (TRUSTED_DOCUMENTS): every door resolves ids with it. */
  readonly trusted: TrustedDocuments
}

declare module 'fastify' {
  interface FastifyInstance {
    graph: Graph
    /**
     * Reads the TRUSTED_DOCUMENTS manifest again (the entry point calls it on SIGHUP): a good one replaces
     * the documents in use, a bad one is logged and the manifest in use is kept. Connections stay open.
     * Whether the documents were replaced.
     */
    reloadTrustedDocuments: () => boolean
  }
}

export interface GraphPluginOptions {
  config: Pick<
    Config,
    'maxQueryDepth' | 'maxQueryFields' | 'maxQueryTokens' | 'maxQueryAliases' | 'maxQueryDirectives' | 'maxQueryCost' | 'maxValidationErrors' |
    'introspection' | 'live' | 'trustedDocuments' | 'costCache'
  >
  /** The manifest of TRUSTED_DOCUMENTS, read by buildApp before anything starts (readManifest); null without one. */
  trustedDocuments?: ReadonlyMap<string, string> | null
}

const graphPlugin: FastifyPluginAsync<GraphPluginOptions> = async (app, { config, trustedDocuments: documents = null }) => {
  const limits: DocumentLimits = {
    maxTokens: config.maxQueryTokens,
    rules: [
      depthLimit(config.maxQueryDepth),
      fieldLimit(config.maxQueryFields),
      aliasLimit(config.maxQueryAliases),
      directiveLimit(config.maxQueryDirectives),
      liveOnQueriesOnly,
      ...(config.introspection ? [] : [noIntrospection])
    ],
    cache: new DocumentCache(),
    maxCost: config.maxQueryCost,
    maxErrors: config.maxValidationErrors,
    costChecks: new CostChecks(config.costCache),
    // New documents are read one per turn of the event loop, callers in turn (src/graphql/read-turns.ts).
    turns: new ReadTurns()
  }
  const schema = buildSchema()
  const { path, ...policy } = config.trustedDocuments
  const trusted = new TrustedDocuments(documents, policy, config.maxQueryTokens)
  if (documents !== null) app.log.info({ path, documents: documents.size, only: policy.only }, 'trusted documents loaded')
  // The manifest's operations are the first-party clients': their names keep metric labels of their own.
  app.metrics.operationNames.reserve(trusted.operationNames())
  app.decorate('reloadTrustedDocuments', (): boolean => {
    const log = app.log.child({ component: 'trusted-documents' })
    if (path === null) {
      log.warn('TRUSTED_DOCUMENTS is not set: there is no manifest to reload')
      return false
    }
    let next: ReadonlyMap<string, string>
    try {
      next = readManifest(path)
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err
      log.error({ path, reason: err.problems.join('; '), documents: trusted.size }, 'trusted documents not reloaded: the manifest in use is kept')
      return false
    }
    const before = trusted.size
    trusted.replace(next)
    app.metrics.operationNames.reserve(trusted.operationNames())
    log.info({ path, documents: next.size, before, only: policy.only }, 'trusted documents reloaded')
    return true
  })
  countSubscriptions(schema, app.metrics)
  const events = new SharedEvents(config.live.pollIntervalMs)
  app.decorate('graph', {
    schema,
    limits,
    introspection: config.introspection,
    trusted,
    subscribe: async (args) => await events.subscribe(args)
  })
}

export default fp(graphPlugin, { name: 'graph', decorators: { fastify: ['metrics'] } })
