import { taskListParams } from '../../domain/arguments.js'
import type { DatasetResolvers } from '../generated/resolvers.js'
import { mapCreationStatus, mapDataset } from '../../domain/mapping/dataset.js'
import { mapEnrichmentContext, mapModel } from '../../domain/mapping/model.js'
import { mapTaskPage } from '../../domain/mapping/task-page.js'

export const Dataset: DatasetResolvers = {
  async sourceDataset (parent, _args, ctx) {
    if (parent.sourceDatasetId === null) return null
    const record = await ctx.loaders.dataset.load(parent.sourceDatasetId)
    return record === null ? null : mapDataset(record, ctx.onUnknown)
  },

  async creationStatus (parent, _args, ctx) {
    const record = await ctx.loaders.creationStatus.load(parent.id)
    return record === null ? null : mapCreationStatus(record, ctx.onUnknown)
  },

  async models (parent, { onlyActive }, ctx) {
    const models = (await ctx.loaders.models.load(parent.id)).map((model) => mapModel(model, ctx.onUnknown))
    return onlyActive ? models.filter((model) => model.isActive) : models
  },

  async enrichment (parent, _args, ctx) {
    return mapEnrichmentContext(parent.id, await ctx.loaders.enrichmentContext.load(parent.id))
  },

  async tasks (parent, args, ctx) {
    return mapTaskPage(await ctx.loaders.taskPage.load(taskListParams(args, parent.id)), ctx.onUnknown)
  }
}
