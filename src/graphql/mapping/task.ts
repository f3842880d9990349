import type { UpstreamTask } from '../../upstream/schemas.js'
import type { TaskParent } from '../parents.js'
import { datasetStatus, isoTimestamp, percent, taskStatus, taskType, type UnknownValueReporter } from './values.js'


export function mapTask (record: UpstreamTask, onUnknown: UnknownValueReporter): TaskParent {
  const type = taskType(record.task_type, onUnknown)
  const status = taskStatus(record.status, onUnknown)
  const creation = type === 'DATASET_CREATION'
  return {
    id: record.task_id,
    type,
    status,
    statusMessage: record.status_message,
    progress: record.progress_percentage === null ? null : percent(record.progress_percentage),
    errorMessage: record.error_message,
    createdBy: record.created_by,
    startTime: isoTimestamp(record.start_time, onUnknown),
    endTime: isoTimestamp(record.end_time, onUnknown),
    datasetId: record.dataset_id,
    datasetName: record.dataset_name,
    datasetStatus: record.dataset_status === null ? null : datasetStatus(record.dataset_status, onUnknown),
    // Task Manager page: only dataset-creation tasks abort (while unfinished) or retry (FAILED/ABORTED).
    // An UNKNOWN status may be a new unfinished state: Visual Layer decides, the flag stays false.
    canAbort: creation && (status === 'INITIALIZING' || status === 'RUNNING'),
    canRetry: creation && (status === 'FAILED' || status === 'ABORTED')
  }
}
