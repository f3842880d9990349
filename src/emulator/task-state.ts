import type { TaskRecord, TaskStatus, TaskType } from './records.js'

export interface TaskState {
  readonly status: TaskStatus
  readonly progress: number | null
  readonly endMs: number | null
  readonly errorMessage: string | null
}

// These importers report no progress upstream; the task list shows `progress_percentage: null`.
const NO_PROGRESS: ReadonlySet<TaskType> = new Set<TaskType>(['CUSTOM_METADATA', 'SNAPSHOT_CLONE'])

/**
 * A task's state at time `t`: INITIALIZING for `initMs`, then RUNNING with progress rising
 * linearly over `runMs` (never 100 before it completes), then COMPLETED, or FAILED at the failure's
 * progress, or ABORTED at the abort time with its progress frozen.
 */
export function taskStateAt (task: TaskRecord, t: number): TaskState {
  const runStart = task.startMs + task.initMs
  const runEnd = task.failure === null ? runStart + task.runMs : runStart + Math.round((task.runMs * task.failure.atProgress) / 100)
  const progressAt = (time: number): number =>
    time < runStart ? 0 : Math.min(99, Math.floor((100 * (time - runStart)) / task.runMs))
  const shown = (progress: number): number | null => (NO_PROGRESS.has(task.type) ? null : progress)

  if (task.abortedAtMs !== null && t >= task.abortedAtMs) {
    return { status: 'ABORTED', progress: shown(progressAt(task.abortedAtMs)), endMs: task.abortedAtMs, errorMessage: null }
  }
  if (t < runStart) return { status: 'INITIALIZING', progress: shown(0), endMs: null, errorMessage: null }
  if (t < runEnd) return { status: 'RUNNING', progress: shown(progressAt(t)), endMs: null, errorMessage: null }
  if (task.failure !== null) {
    return { status: 'FAILED', progress: shown(task.failure.atProgress), endMs: runEnd, errorMessage: task.failure.errorMessage }
  }
  return { status: 'COMPLETED', progress: shown(100), endMs: runEnd, errorMessage: null }
}

export function isActive (state: TaskState): boolean {
  return state.status === 'INITIALIZING' || state.status === 'RUNNING'
}

const MESSAGES: Record<TaskType, readonly [initializing: string, running: string, completed: string, failed: string]> = {
  DATASET_CREATION: ['Preparing dataset creation', 'Indexing media', 'Dataset created', 'Dataset creation failed'],
  MEDIA_ADDITION: ['Preparing media addition', 'Adding media', 'Media added', 'Media addition failed'],
  REINDEX: ['Preparing reindex', 'Re-indexing dataset', 'Reindex completed', 'Reindex failed'],
  ENRICHMENT: ['Preparing enrichment', 'Running enrichment models', 'Enrichment completed', 'Enrichment failed'],
  CUSTOM_METADATA: ['Validating metadata file', 'Importing custom metadata', 'Custom metadata imported', 'Custom metadata import failed'],
  SNAPSHOT_RESTORE: ['Preparing snapshot restore', 'Restoring snapshot', 'Snapshot restored', 'Snapshot restore failed'],
  SNAPSHOT_CLONE: ['Preparing snapshot clone', 'Cloning snapshot', 'Snapshot cloned', 'Snapshot clone failed']
}

export function statusMessage (type: TaskType, status: TaskStatus): string {
  const [initializing, running, completed, failed] = MESSAGES[type]
  switch (status) {
    case 'INITIALIZING': return initializing
    case 'RUNNING': return running
    case 'COMPLETED': return completed
    case 'FAILED': return failed
    case 'ABORTED': return 'Aborted by user'
  }
}
