import type { DatasetStatus, TaskStatus } from '../../contract/types.js'
import type { Checked } from '../../upstream/checked.js'
import type { UpstreamDataset, UpstreamTask } from '../../upstream/schemas.js'
import { datasetStatus, taskStatus } from '../mapping/values.js'

/*
 * Which watched values are in motion, for the pollers' adaptive interval (poller.ts), and where a
 * live status stream ends. A dataset settles at the statuses Visual Layer's own polling loop stops at
 * (READY, PARTIAL INDEX, ERROR: docs/live-status.md); any other status (DRAFT, INDEXING, READ ONLY,
 * one Visual Layer adds later) is in motion. A task is in motion until it finishes.
 */

export const SETTLED_DATASET_STATUSES: ReadonlySet<DatasetStatus> = new Set<DatasetStatus>(['READY', 'PARTIAL_INDEX', 'ERROR'])
export const FINISHED_TASK_STATUSES: ReadonlySet<TaskStatus> = new Set<TaskStatus>(['COMPLETED', 'FAILED', 'ABORTED'])

const quiet = (): void => {}

function datasetMoving (raw: string | null): boolean {
  return raw === null || !SETTLED_DATASET_STATUSES.has(datasetStatus(raw, quiet))
}

/** A dataset whose status is not settled (creation, indexing, an update or an enrichment under way). */
export function datasetInMotion (record: Checked<UpstreamDataset>): boolean {
  return datasetMoving(record.value.status_new ?? record.value.status)
}

/** A task list with a task not finished, or whose rows say their dataset is not settled. */
export function tasksInMotion (tasks: ReadonlyArray<Checked<UpstreamTask>>): boolean {
  return tasks.some((task) => !FINISHED_TASK_STATUSES.has(taskStatus(task.value.status, quiet)) ||
    (task.value.dataset_status !== null && datasetMoving(task.value.dataset_status)))
}
