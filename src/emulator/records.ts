/**
 * The emulator's stored records. They hold only what cannot be derived: a task's schedule and
 * outcome, a dataset's fixed metadata. Statuses and progress are computed from the clock on read
 * (see task-state.ts and dataset-state.ts), so moving the clock is all it takes to move the world.
 */
export const TASK_TYPES = [
  'DATASET_CREATION',
  'MEDIA_ADDITION',
  'REINDEX',
  'ENRICHMENT',
  'CUSTOM_METADATA',
  'SNAPSHOT_RESTORE',
  'SNAPSHOT_CLONE'
] as const
export type TaskType = (typeof TASK_TYPES)[number]

export const TASK_STATUSES = ['INITIALIZING', 'RUNNING', 'COMPLETED', 'FAILED', 'ABORTED'] as const
export type TaskStatus = (typeof TASK_STATUSES)[number]

export type DatasetStatus = 'DRAFT' | 'INDEXING' | 'READ ONLY' | 'PARTIAL INDEX' | 'READY' | 'ERROR'

export interface TaskFailure {
  /** The progress at which the run stops; the task fails at that point of its run. */
  readonly atProgress: number
  readonly errorMessage: string
}

export interface TaskRecord {
  readonly id: string
  /** API key of the owning account. */
  readonly accountKey: string
  readonly datasetId: string
  readonly type: TaskType
  readonly createdBy: string
  /** Mutable: a retry restarts the task. */
  startMs: number
  /** Time spent INITIALIZING before RUNNING. */
  initMs: number
  /** Time a full run takes from RUNNING to COMPLETED (> 0). */
  runMs: number
  /** Null: the task runs to COMPLETED. */
  failure: TaskFailure | null
  abortedAtMs: number | null
}

export interface DatasetRecord {
  readonly id: string
  readonly accountKey: string
  readonly displayName: string
  readonly description: string
  readonly sourceType: string
  readonly ownedBy: string
  readonly createdAtMs: number
  /** Sub-millisecond digits of `created_at`, for Visual Layer's microsecond timestamps. */
  readonly createdAtMicros: number
  readonly createdBy: string
  readonly hidden: boolean
  readonly nImages: number
  readonly nVideos: number
  readonly nObjects: number
  readonly sourceDatasetId: string | null
  /** The task whose run builds this dataset: DATASET_CREATION, or the ENRICHMENT that made this copy. */
  readonly creationTaskId: string
  readonly enrichmentContextId: string
  /** Applied enrichment models, type -> model id. */
  readonly enrichmentModels: Readonly<Record<string, string>>
}

export interface EmulatorState {
  readonly datasets: Map<string, DatasetRecord>
  readonly tasks: Map<string, TaskRecord>
}
