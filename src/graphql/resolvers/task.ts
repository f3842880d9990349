import type { AppliedEnrichmentResolvers, TaskResolvers } from '../generated/resolvers.js'
import { mapDataset } from '../../domain/mapping/dataset.js'
import { mapModel } from '../../domain/mapping/model.js'

export const Task: TaskResolvers = {
  async dataset (parent, _args, ctx) {
    const record = await ctx.loaders.dataset.load(parent.datasetId)
    return record === null ? null : mapDataset(record, ctx.onUnknown)
  }
}

export const AppliedEnrichment: AppliedEnrichmentResolvers = {
  async model (parent, _args, ctx) {
    const models = await ctx.loaders.models.load(parent.datasetId)
    const model = models.find((candidate) => candidate.value.id === parent.modelId)
    return model === undefined ? null : mapModel(model, ctx.onUnknown)
  }
}
