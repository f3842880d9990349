import { tasksOf } from '../lookups.js'
import type { EmulatorState, TaskRecord } from '../records.js'
import { TASK_STATUSES, TASK_TYPES } from '../records.js'
import type { RawQuery } from '../request-validation.js'
import { RequestValidator } from '../request-validation.js'
import { callerAndPathId, type RouteContext, type RouteSpec } from '../route-context.js'
import { abortTask, retryTask } from '../task-actions.js'
import { taskStateAt } from '../task-state.js'
import { taskJson } from '../views.js'

const SORT_FIELDS = ['start_time', 'status', 'task_type', 'dataset_name', 'dataset_id', 'created_by'] as const
type SortField = (typeof SORT_FIELDS)[number]

function compare (a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function sortKey (task: TaskRecord, field: SortField, state: EmulatorState, now: number): string | number {
  switch (field) {
    case 'start_time': return task.startMs
    case 'status': return taskStateAt(task, now).status
    case 'task_type': return task.type
    case 'dataset_name': return state.datasets.get(task.datasetId)?.displayName ?? ''
    case 'dataset_id': return task.datasetId
    case 'created_by': return task.createdBy
  }
}

function inTimeRange (task: TaskRecord, from: number | undefined, to: number | undefined): boolean {
  return (from === undefined || task.startMs >= from) && (to === undefined || task.startMs <= to)
}

function distinctSorted (values: Iterable<string>): string[] {
  return [...new Set(values)].sort(compare)
}

export function taskRoutes (ctx: RouteContext): RouteSpec[] {
  return [
    {
      method: 'GET',
      url: '/api/v1/tasks',
      /**
       * Every filter is an exact match (`created_by` ignores case); the time range is inclusive.
       * Strings sort in code-unit order, statuses by name; ties always go by task_id ascending.
       */
      handler: async (request) => {
        const account = ctx.authenticate(request.headers.authorization)
        const query = new RequestValidator(request.query as RawQuery)
        const datasetId = query.uuid('dataset_id')
        const datasetName = query.string('dataset_name')
        const taskType = query.enumValue('task_type', TASK_TYPES)
        const taskStatus = query.enumValue('task_status', TASK_STATUSES)
        const createdBy = query.string('created_by')
        const from = query.datetime('start_time_from')
        const to = query.datetime('start_time_to')
        const sortBy = query.enumValue('sort_by', SORT_FIELDS, 'start_time')
        const sortOrder = query.enumValue('sort_order', ['asc', 'desc'] as const, 'desc')
        const page = query.int('page', 1, { ge: 1 })
        const pageSize = query.int('page_size', 20, { ge: 5, le: 50 })
        query.check()

        const state = ctx.state()
        const now = ctx.clock.now()
        const matching = tasksOf(state, account).filter((task) =>
          (datasetId === undefined || task.datasetId === datasetId) &&
          (datasetName === undefined || state.datasets.get(task.datasetId)?.displayName === datasetName) &&
          (taskType === undefined || task.type === taskType) &&
          (taskStatus === undefined || taskStateAt(task, now).status === taskStatus) &&
          (createdBy === undefined || task.createdBy.toLowerCase() === createdBy.toLowerCase()) &&
          inTimeRange(task, from, to)
        )
        const direction = sortOrder === 'asc' ? 1 : -1
        matching.sort((a, b) =>
          direction * compare(sortKey(a, sortBy, state, now), sortKey(b, sortBy, state, now)) || compare(a.id, b.id)
        )
        const pageTasks = matching.slice((page - 1) * pageSize, page * pageSize)
        return { tasks: pageTasks.map((task) => taskJson(task, state, now)), total: matching.length, page, page_size: pageSize }
      }
    },
    {
      method: 'GET',
      url: '/api/v1/tasks/filters',
      handler: async (request) => {
        const account = ctx.authenticate(request.headers.authorization)
        const query = new RequestValidator(request.query as RawQuery)
        const from = query.datetime('start_time_from')
        const to = query.datetime('start_time_to')
        query.check()
        const state = ctx.state()
        const tasks = tasksOf(state, account).filter((task) => inTimeRange(task, from, to))
        return {
          dataset_names: distinctSorted(tasks.map((task) => state.datasets.get(task.datasetId)?.displayName ?? '')),
          dataset_ids: distinctSorted(tasks.map((task) => task.datasetId)),
          task_types: distinctSorted(tasks.map((task) => task.type)),
          created_by: distinctSorted(tasks.map((task) => task.createdBy))
        }
      }
    },
    {
      method: 'POST',
      url: '/api/v1/tasks/:task_id/abort',
      handler: async (request) => {
        const { account, id } = callerAndPathId(ctx, request, 'task_id')
        const state = ctx.state()
        const now = ctx.clock.now()
        return taskJson(abortTask(state, account, id, now), state, now)
      }
    },
    {
      method: 'POST',
      url: '/api/v1/tasks/:task_id/retry',
      handler: async (request) => {
        const { account, id } = callerAndPathId(ctx, request, 'task_id')
        const state = ctx.state()
        const now = ctx.clock.now()
        return taskJson(retryTask(state, account, id, now), state, now)
      }
    }
  ]
}
