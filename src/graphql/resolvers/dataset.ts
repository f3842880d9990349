import { creationStatusOf, datasetOf, enrichmentOf, modelsOf } from '../../domain/datasets.js'
import { taskPage } from '../../domain/task-list.js'
import type { DatasetResolvers } from '../generated/resolvers.js'

export const Dataset: DatasetResolvers = {
  sourceDataset: async (parent, _args, ctx) => parent.sourceDatasetId === null ? null : await datasetOf(ctx, parent.sourceDatasetId),
  creationStatus: (parent, _args, ctx) => creationStatusOf(ctx, parent.id),
  models: (parent, { onlyActive }, ctx) => modelsOf(ctx, parent.id, onlyActive),
  enrichment: (parent, _args, ctx) => enrichmentOf(ctx, parent.id),
  tasks: (parent, args, ctx) => taskPage(ctx, args, parent.id)
}
