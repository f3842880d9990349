import type { Checked } from '../../upstream/checked.js'
import type { UpstreamTask } from '../../upstream/schemas.js'
import type { TaskParent } from '../parents.js'
import { guardBroken, type Dependents } from './broken.js'
import { mapOnce } from './once.js'
import { datasetStatus, isoTimestamp, percent, taskStatus, taskType, type UnknownValueReporter } from './values.js'

/*
 * A Visual Layer task record as the contract's Task, with the abort and retry rules the contract
 * exposes (canAbort, canRetry) and broken fields failing only the contract fields they feed.
 */

const DEPENDENTS: Dependents<TaskParent> = {
  dataset_id: ['datasetId'],
  dataset_name: ['datasetName'],
  dataset_status: ['datasetStatus'],
  created_by: ['createdBy'],
  task_type: ['type', 'canAbort', 'canRetry'],
  status: ['status', 'canAbort', 'canRetry'],
  status_message: ['statusMessage'],
  progress_percentage: ['progress'],
  error_message: ['errorMessage'],
  start_time: ['startTime'],
  end_time: ['endTime']
}

const mappedTasks = new WeakMap<Checked<UpstreamTask>, TaskParent>()

export function mapTask (checked: Checked<UpstreamTask>, onUnknown: UnknownValueReporter): TaskParent {
  return mapOnce(mappedTasks, checked, onUnknown, mapTaskRecord)
}

function mapTaskRecord (checked: Checked<UpstreamTask>, onUnknown: UnknownValueReporter): TaskParent {
  const record = checked.value
  const type = taskType(record.task_type ?? '', onUnknown)
  const status = taskStatus(record.status ?? '', onUnknown)
  const creation = type === 'DATASET_CREATION'
  const mapped: TaskParent = {
    id: record.task_id,
    type,
    status,
    statusMessage: record.status_message,
    progress: record.progress_percentage === null || record.progress_percentage === undefined ? null : percent(record.progress_percentage),
    errorMessage: record.error_message,
    createdBy: record.created_by,
    startTime: isoTimestamp(record.start_time ?? null, onUnknown),
    endTime: isoTimestamp(record.end_time ?? null, onUnknown),
    datasetId: record.dataset_id,
    datasetName: record.dataset_name,
    datasetStatus: record.dataset_status === null || record.dataset_status === undefined ? null : datasetStatus(record.dataset_status, onUnknown),
    // Task Manager page: only dataset-creation tasks abort (while unfinished) or retry (FAILED/ABORTED).
    // An UNKNOWN status may be a new unfinished state: Visual Layer decides, the flag stays false.
    canAbort: creation && (status === 'INITIALIZING' || status === 'RUNNING'),
    canRetry: creation && (status === 'FAILED' || status === 'ABORTED')
  }
  return guardBroken(mapped, checked, DEPENDENTS, `task ${record.task_id}`)
}
