import { enrichDataset, type EnrichPayload } from '../../domain/enrichment/enrich.js'
import { taskAction } from '../../domain/tasks.js'
import type { MutationResolvers, ResolversTypes } from '../generated/resolvers.js'

export const Mutation: MutationResolvers = {
  enrichDataset: async (_root, args, ctx) => asPayload(await enrichDataset(args, ctx)),
  abortTask: (_root, { taskId }, ctx) => taskAction('abort', taskId, ctx),
  retryTask: (_root, { taskId }, ctx) => taskAction('retry', taskId, ctx)
}

/** graphql-js turns a promise of null into null for a nullable field; the generated type lacks that null. */
function asPayload (payload: EnrichPayload): ResolversTypes['EnrichDatasetPayload'] {
  return payload as unknown as ResolversTypes['EnrichDatasetPayload']
}
