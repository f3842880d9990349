import { datasetById, datasetsByIds, listDatasets } from '../../domain/datasets.js'
import { taskFilterOptions, taskPage } from '../../domain/task-list.js'
import type { QueryResolvers } from '../generated/resolvers.js'

export const Query: QueryResolvers = {
  dataset: (_root, { id }, ctx) => datasetById(ctx, 'id', id),
  // An Error in a list is reported by graphql-js at that index; the other datasets stay.
  datasetsByIds: async (_root, { ids }, ctx) => await datasetsByIds(ctx, ids) as never,
  datasets: (_root, _args, ctx) => listDatasets(ctx),
  tasks: (_root, args, ctx) => taskPage(ctx, args),
  taskFilterOptions: (_root, args, ctx) => taskFilterOptions(ctx, args)
}
