import { watchDataset, watchTasks } from '../../domain/live/watch.js'
import type { DatasetParent, TaskParent } from '../../domain/parents.js'
import type { SubscriptionResolvers } from '../generated/resolvers.js'

/** Each event is resolved afresh: the readers refresh themselves before each (src/domain/live/watch.ts). */
export const Subscription: SubscriptionResolvers = {
  datasetStatusChanged: {
    subscribe: (_root, { datasetId, follow }, ctx) => watchDataset(ctx, datasetId, follow),
    resolve: (payload: DatasetParent) => payload
  },

  taskUpdated: {
    subscribe: async (_root, { datasetId, taskId }, ctx) => await watchTasks(ctx, datasetId, taskId ?? null),
    resolve: (payload: TaskParent) => payload
  }
}
