import type { MutationResolvers } from '../generated/resolvers.js'
import { enrichDataset } from '../../domain/enrichment/enrich.js'
import { taskAction } from '../../domain/tasks.js'

export const Mutation: MutationResolvers = {
  enrichDataset: (_root, args, ctx) => enrichDataset(args, ctx),
  abortTask: (_root, { taskId }, ctx) => taskAction('abort', taskId, ctx),
  retryTask: (_root, { taskId }, ctx) => taskAction('retry', taskId, ctx)
}
