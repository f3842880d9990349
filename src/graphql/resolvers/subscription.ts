import { watchDataset, watchTasks } from '../../domain/live/watch.js'
import type { DatasetParent, TaskParent } from '../../domain/parents.js'
import type { GraphQLContext } from '../context.js'
import type { SubscriptionResolvers } from '../generated/resolvers.js'
import { clearLoaders } from '../loaders.js'

/**
 * Each event is resolved afresh: nested fields must not reuse what an earlier event loaded, and get
 * the call budget of an operation of their own (a long subscription would otherwise spend it).
 */
function freshLoaders (ctx: GraphQLContext): () => void {
  return () => {
    clearLoaders(ctx.loaders)
    ctx.call.budget?.renew()
  }
}

export const Subscription: SubscriptionResolvers = {
  datasetStatusChanged: {
    subscribe: (_root, { datasetId, follow }, ctx) => watchDataset(ctx, datasetId, follow, freshLoaders(ctx)),
    resolve: (payload: DatasetParent) => payload
  },

  taskUpdated: {
    subscribe: async (_root, { datasetId, taskId }, ctx) => await watchTasks(ctx, datasetId, taskId ?? null, freshLoaders(ctx)),
    resolve: (payload: TaskParent) => payload
  }
}
