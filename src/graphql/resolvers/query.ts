import { GatewayError } from '../../errors.js'
import { failsTheOperation } from '../../upstream/errors.js'
import { checkId, checkTimeRange, taskListParams } from '../../domain/arguments.js'
import type { QueryResolvers } from '../generated/resolvers.js'
import { mapDataset } from '../../domain/mapping/dataset.js'
import { mapTaskPage } from '../../domain/mapping/task-page.js'

const MAX_IDS = 100

export const Query: QueryResolvers = {
  async dataset (_root, { id }, ctx) {
    const record = await ctx.loaders.dataset.load(checkId('id', id))
    return record === null ? null : mapDataset(record, ctx.onUnknown)
  },

  async datasetsByIds (_root, { ids }, ctx) {
    if (ids.length > MAX_IDS) {
      throw new GatewayError('BAD_USER_INPUT', `Argument ids accepts at most ${MAX_IDS} ids; got ${ids.length}.`)
    }
    const checked = ids.map((id, index) => checkId(`ids[${index}]`, id))
    const records = await ctx.loaders.dataset.loadMany(checked)
    const fatal = records.find(failsTheOperation)
    if (fatal !== undefined) throw fatal
    // An Error in a list is reported by graphql-js at that index; the other datasets stay.
    return records.map((record) => {
      if (record instanceof Error) return record as never
      return record === null ? null : mapDataset(record, ctx.onUnknown)
    })
  },

  async datasets (_root, _args, ctx) {
    const records = await ctx.vl.listDatasets(ctx.call)
    // Later fields (Task.dataset, Dataset.sourceDataset) reuse what the list already brought.
    for (const record of records) ctx.loaders.dataset.prime(record.value.id, record)
    return records
      .map((record) => mapDataset(record, ctx.onUnknown))
      .sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''))
  },

  async tasks (_root, args, ctx) {
    const params = taskListParams(args)
    return mapTaskPage(await ctx.loaders.taskPage.load(params), ctx.onUnknown)
  },

  async taskFilterOptions (_root, args, ctx) {
    checkTimeRange('startTimeFrom', args.startTimeFrom, 'startTimeTo', args.startTimeTo)
    const filters = await ctx.vl.getTaskFilters({
      start_time_from: args.startTimeFrom ?? undefined,
      start_time_to: args.startTimeTo ?? undefined
    }, ctx.call)
    return {
      datasetNames: filters.dataset_names,
      datasetIds: filters.dataset_ids,
      taskTypes: filters.task_types,
      createdBy: filters.created_by
    }
  }
}
