import { GatewayError } from '../errors.js'
import type { TaskListParams } from '../upstream/client.js'
import type { DatasetTaskFilter, TaskFilter, TaskOrder, TaskOrderField } from '../contract/types.js'

/*
 * Argument checks done before any upstream call: a bad argument is BAD_USER_INPUT naming the
 * argument and what it accepts, and costs Visual Layer nothing.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function checkId (argument: string, value: string): string {
  if (!UUID.test(value)) {
    throw new GatewayError(
      'BAD_USER_INPUT',
      `Argument ${argument} must be a Visual Layer id (a UUID such as ad48d250-1232-11f1-bfca-fa39f6ed1f22); got ${JSON.stringify(value.slice(0, 80))}.`
    )
  }
  return value.toLowerCase()
}

/**
 * The longest text each string argument may have. Visual Layer refuses over-long query strings with
 * 431 and none of its names come near these; a longer value is refused here, before any call.
 * docs/errors.md lists them.
 */
export const TEXT_LIMITS = {
  datasetName: 256,
  createdBy: 256,
  enrichmentType: 100,
  modelId: 200,
  idempotencyKey: 255
} as const

/** Most models one enrichDataset may name (Visual Layer has a handful of enrichment types). */
export const MAX_MODELS = 32

/** A string argument within its cap; the error names the argument, the cap and the length it got. */
function checkText (argument: string, value: string, max: number): string {
  if (value.length > max) {
    throw new GatewayError('BAD_USER_INPUT', `Argument ${argument} must be at most ${max} characters long; got ${value.length}.`)
  }
  return value
}

function checkRange (argument: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `from ${min} to ${max}`
    throw new GatewayError('BAD_USER_INPUT', `Argument ${argument} must be ${range}; got ${value}.`)
  }
  return value
}

const ORDER_FIELDS: Record<TaskOrderField, string> = {
  START_TIME: 'start_time',
  STATUS: 'status',
  TASK_TYPE: 'task_type',
  DATASET_NAME: 'dataset_name',
  DATASET_ID: 'dataset_id',
  CREATED_BY: 'created_by'
}

export interface TaskPageArgs {
  filter?: TaskFilter | DatasetTaskFilter | null
  orderBy?: TaskOrder | null
  page: number
  pageSize: number
}

/** The task list query Visual Layer understands, from the contract's arguments. */
export function taskListParams (args: TaskPageArgs, datasetId?: string): TaskListParams {
  const page = checkRange('page', args.page, 1, Number.MAX_SAFE_INTEGER)
  const pageSize = checkRange('pageSize', args.pageSize, 5, 50)
  const filter: TaskFilter = args.filter ?? {}
  if (filter.type === 'UNKNOWN' || filter.status === 'UNKNOWN') {
    throw new GatewayError('BAD_USER_INPUT', 'UNKNOWN cannot be used as a task filter: it stands for values this gateway does not know.')
  }
  const fromId = datasetId ?? (filter.datasetId == null ? undefined : checkId('filter.datasetId', filter.datasetId))
  if (filter.datasetName != null) checkText('filter.datasetName', filter.datasetName, TEXT_LIMITS.datasetName)
  if (filter.createdBy != null) checkText('filter.createdBy', filter.createdBy, TEXT_LIMITS.createdBy)
  const params: TaskListParams = {
    dataset_id: fromId,
    dataset_name: filter.datasetName ?? undefined,
    task_type: filter.type ?? undefined,
    task_status: filter.status ?? undefined,
    created_by: filter.createdBy ?? undefined,
    start_time_from: filter.startTimeFrom ?? undefined,
    start_time_to: filter.startTimeTo ?? undefined,
    sort_by: ORDER_FIELDS[args.orderBy?.field ?? 'START_TIME'],
    sort_order: (args.orderBy?.direction ?? 'DESC') === 'ASC' ? 'asc' : 'desc',
    page,
    page_size: pageSize
  }
  checkTimeRange('filter.startTimeFrom', params.start_time_from, 'filter.startTimeTo', params.start_time_to)
  return params
}

/** Both bounds are normalised DateTimes; compared as instants, not as text. */
export function checkTimeRange (fromName: string, from: string | undefined | null, toName: string, to: string | undefined | null): void {
  if (from == null || to == null || Date.parse(from) <= Date.parse(to)) return
  throw new GatewayError('BAD_USER_INPUT', `${fromName} (${from}) is after ${toName} (${to}).`)
}
