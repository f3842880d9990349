import { datasetStateAt } from './dataset-state.js'
import type { DatasetState } from './dataset-state.js'
import type { DatasetRecord, EmulatorState, TaskRecord } from './records.js'
import { statusMessage, taskStateAt } from './task-state.js'
import { formatDatasetTime, formatTaskTime } from './time-format.js'

/* The JSON bodies, field for field as Visual Layer's pages show them (snake_case, same order). */

export function datasetJson (dataset: DatasetRecord, datasetState: DatasetState): Record<string, unknown> {
  return {
    id: dataset.id,
    display_name: dataset.displayName,
    description: dataset.description,
    source_type: dataset.sourceType,
    owned_by: dataset.ownedBy,
    created_at: formatDatasetTime(dataset.createdAtMs, dataset.createdAtMicros),
    status_new: datasetState.status,
    progress: datasetState.progress,
    n_images: dataset.nImages,
    n_videos: dataset.nVideos,
    n_objects: dataset.nObjects,
    fatal_error_msg: datasetState.fatalErrorMsg,
    source_dataset_id: dataset.sourceDatasetId
  }
}

/** `GET /api/v1/datasets` items: the dataset fields plus `created_by`, `updated_at`, `preview_uri`. */
export function datasetListItemJson (dataset: DatasetRecord, datasetState: DatasetState): Record<string, unknown> {
  const updatedMicros = datasetState.updatedAtMs === dataset.createdAtMs ? dataset.createdAtMicros : 0
  return {
    ...datasetJson(dataset, datasetState),
    created_by: dataset.createdBy,
    updated_at: formatDatasetTime(datasetState.updatedAtMs, updatedMicros),
    // A preview exists once the media is indexed.
    preview_uri: datasetState.settled ? `https://assets.visual-layer.example/previews/${dataset.id}/cover.jpg` : null
  }
}

export function taskJson (task: TaskRecord, state: EmulatorState, t: number): Record<string, unknown> {
  const dataset = state.datasets.get(task.datasetId)
  const taskState = taskStateAt(task, t)
  return {
    task_id: task.id,
    dataset_id: task.datasetId,
    dataset_name: dataset?.displayName ?? null,
    // The task list writes dataset statuses with underscores (READ_ONLY, PARTIAL_INDEX).
    dataset_status: dataset === undefined ? null : datasetStateAt(dataset, state, t).status.replace(' ', '_'),
    created_by: task.createdBy,
    task_type: task.type,
    status: taskState.status,
    status_message: statusMessage(task.type, taskState.status),
    progress_percentage: taskState.progress,
    error_message: taskState.errorMessage,
    start_time: formatTaskTime(task.startMs),
    end_time: taskState.endMs === null ? null : formatTaskTime(taskState.endMs)
  }
}
