import type { DatasetRecord, DatasetStatus, EmulatorState, TaskRecord, TaskType } from './records.js'
import { isActive, taskStateAt } from './task-state.js'

export interface DatasetState {
  readonly status: DatasetStatus
  readonly progress: number
  readonly fatalErrorMsg: string | null
  /** True once the creating task has COMPLETED. */
  readonly settled: boolean
  readonly updatedAtMs: number
}

// Tasks that make a settled dataset READ ONLY while they run (Visual Layer: "add media,
// enrichment, or reindex in progress"); a snapshot restore rewrites the dataset too.
const LOCKING: ReadonlySet<TaskType> = new Set<TaskType>(['MEDIA_ADDITION', 'REINDEX', 'ENRICHMENT', 'SNAPSHOT_RESTORE'])

const ABORTED_CREATION_MESSAGE = 'Dataset creation was aborted'

/**
 * A dataset's state at time `t`, derived from its creating task (DRAFT while it initializes,
 * INDEXING while it runs, ERROR when it fails or is aborted) and, once settled, from the tasks that
 * run on it: READ ONLY while a locking task runs, else PARTIAL INDEX when media was added after the
 * last completed reindex, else READY.
 */
export function datasetStateAt (dataset: DatasetRecord, state: EmulatorState, t: number): DatasetState {
  const creationTask = state.tasks.get(dataset.creationTaskId)
  const related = relatedTasks(dataset, state)
  const updatedAtMs = latestEvent(dataset, related, t)
  if (creationTask !== undefined) {
    const creation = taskStateAt(creationTask, t)
    switch (creation.status) {
      case 'INITIALIZING':
        return { status: 'DRAFT', progress: 0, fatalErrorMsg: null, settled: false, updatedAtMs }
      case 'RUNNING':
        return { status: 'INDEXING', progress: creation.progress ?? 0, fatalErrorMsg: null, settled: false, updatedAtMs }
      case 'FAILED':
        return { status: 'ERROR', progress: creation.progress ?? 0, fatalErrorMsg: creation.errorMessage, settled: false, updatedAtMs }
      case 'ABORTED':
        return { status: 'ERROR', progress: creation.progress ?? 0, fatalErrorMsg: ABORTED_CREATION_MESSAGE, settled: false, updatedAtMs }
      case 'COMPLETED':
        break
    }
  }

  let locked = false
  let lastMediaAddition = -Infinity
  let lastReindex = -Infinity
  for (const task of related) {
    if (task.id === dataset.creationTaskId || task.datasetId !== dataset.id) continue
    const taskState = taskStateAt(task, t)
    if (LOCKING.has(task.type) && isActive(taskState)) locked = true
    if (taskState.status === 'COMPLETED' && taskState.endMs !== null) {
      if (task.type === 'MEDIA_ADDITION') lastMediaAddition = Math.max(lastMediaAddition, taskState.endMs)
      if (task.type === 'REINDEX') lastReindex = Math.max(lastReindex, taskState.endMs)
    }
  }
  const resting: DatasetStatus = lastMediaAddition > lastReindex ? 'PARTIAL INDEX' : 'READY'
  return { status: locked ? 'READ ONLY' : resting, progress: 100, fatalErrorMsg: null, settled: true, updatedAtMs }
}

/** The dataset's own tasks plus the one that created it (an enrichment runs on the source). */
function relatedTasks (dataset: DatasetRecord, state: EmulatorState): TaskRecord[] {
  const tasks: TaskRecord[] = []
  for (const task of state.tasks.values()) {
    if (task.datasetId === dataset.id || task.id === dataset.creationTaskId) tasks.push(task)
  }
  return tasks
}

/** `updated_at`: the latest start or end, up to `t`, of any task touching the dataset. */
function latestEvent (dataset: DatasetRecord, tasks: readonly TaskRecord[], t: number): number {
  let latest = dataset.createdAtMs
  for (const task of tasks) {
    if (task.startMs <= t) latest = Math.max(latest, task.startMs)
    const { endMs } = taskStateAt(task, t)
    if (endMs !== null && endMs <= t) latest = Math.max(latest, endMs)
  }
  return latest
}
