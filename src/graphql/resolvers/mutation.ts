import { enrichDataset, type EnrichPayload } from '../../domain/enrichment/enrich.js'
import { taskAction } from '../../domain/tasks.js'
import type { EnrichDatasetPayloadResolvers, MutationResolvers, ResolversTypes } from '../generated/resolvers.js'

export const Mutation: MutationResolvers = {
  enrichDataset: async (_root, args, ctx) => asPayload(await enrichDataset(args, ctx)),
  abortTask: (_root, { taskId }, ctx) => taskAction('abort', taskId, ctx),
  retryTask: (_root, { taskId }, ctx) => taskAction('retry', taskId, ctx)
}

/**
 * The payload's datasets are promises, read only when selected. Resolved here rather than left to the
 * default resolver: compiled execution (graphql-jit) reads a field without a resolver as a plain value
 * and would not wait for a promise, and the resolver keeps the payload right under any executor.
 */
export const EnrichDatasetPayload: EnrichDatasetPayloadResolvers = {
  enrichedDataset: async (parent) => await (parent as unknown as EnrichPayload).enrichedDataset,
  sourceDataset: async (parent) => await (parent as unknown as EnrichPayload).sourceDataset
}

/** graphql-js turns a promise of null into null for a nullable field; the generated type lacks that null. */
function asPayload (payload: EnrichPayload): ResolversTypes['EnrichDatasetPayload'] {
  return payload as unknown as ResolversTypes['EnrichDatasetPayload']
}
