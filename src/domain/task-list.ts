import type { QueryTaskFilterOptionsArgs, TaskFilterOptions } from '../contract/types.js'
import { checkTimeRange, taskListParams, type TaskPageArgs } from './arguments.js'
import type { DomainContext } from './context.js'
import { mapTaskPage, type TaskPageParent } from './mapping/task-page.js'

/**
 * Reading the task list: a page of tasks, of every dataset or of one, filtered and ordered as the
 * contract's arguments say (checked before any call), and the values its filters can take.
 */

/** A page of tasks; with `datasetId`, only that dataset's (its id comes from Visual Layer). */
export async function taskPage (ctx: DomainContext, args: TaskPageArgs, datasetId?: string): Promise<TaskPageParent> {
  const params = taskListParams(args, datasetId)
  return mapTaskPage(await ctx.loaders.taskPage.load(params), ctx.onUnknown)
}

export async function taskFilterOptions (ctx: DomainContext, args: QueryTaskFilterOptionsArgs): Promise<TaskFilterOptions> {
  checkTimeRange('startTimeFrom', args.startTimeFrom, 'startTimeTo', args.startTimeTo)
  ctx.loaders.readAccount()
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
