import { datasetOf, modelOf } from '../../domain/datasets.js'
import type { AppliedEnrichmentResolvers, TaskResolvers } from '../generated/resolvers.js'

export const Task: TaskResolvers = {
  dataset: (parent, _args, ctx) => datasetOf(ctx, parent.datasetId)
}

export const AppliedEnrichment: AppliedEnrichmentResolvers = {
  model: (parent, _args, ctx) => modelOf(ctx, parent.datasetId, parent.modelId)
}
