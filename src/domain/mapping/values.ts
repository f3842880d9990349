import type { DatasetStatus, ModelStatus, TaskStatus, TaskType } from '../../contract/types.js'

/*
 * Visual Layer's value sets, mapped to the contract's enums. Upstream spellings vary (`READ ONLY`
 * on datasets, `READ_ONLY` in the task list) and the sets grow: an unknown value becomes UNKNOWN
 * and is reported through `onUnknown`, never failing a response.
 */

export type UnknownValueReporter = (kind: string, value: string) => void

const DATASET_STATUSES: ReadonlySet<string> = new Set<DatasetStatus>(['DRAFT', 'INDEXING', 'READ_ONLY', 'PARTIAL_INDEX', 'READY', 'ERROR'])
const TASK_TYPES: ReadonlySet<string> = new Set<TaskType>([
  'DATASET_CREATION', 'MEDIA_ADDITION', 'REINDEX', 'ENRICHMENT', 'CUSTOM_METADATA', 'SNAPSHOT_RESTORE', 'SNAPSHOT_CLONE'
])
const TASK_STATUSES: ReadonlySet<string> = new Set<TaskStatus>(['INITIALIZING', 'RUNNING', 'COMPLETED', 'FAILED', 'ABORTED'])
const MODEL_STATUSES: ReadonlyMap<string, ModelStatus> = new Map([['ACTIVE', 'ACTIVE'], ['COMING_SOON', 'COMING_SOON']])

/** `Read only`, `READ ONLY`, `read-only` and `READ_ONLY` all become `READ_ONLY`. */
function normalize (value: string): string {
  return value.trim().toUpperCase().replace(/[\s-]+/g, '_')
}

function mapEnum<T extends string> (kind: string, known: ReadonlySet<string>, value: string, onUnknown: UnknownValueReporter): T | 'UNKNOWN' {
  const normal = normalize(value)
  if (known.has(normal)) return normal as T
  onUnknown(kind, value)
  return 'UNKNOWN'
}

export function datasetStatus (value: string, onUnknown: UnknownValueReporter): DatasetStatus {
  return mapEnum<DatasetStatus>('dataset status', DATASET_STATUSES, value, onUnknown)
}

export function taskType (value: string, onUnknown: UnknownValueReporter): TaskType {
  return mapEnum<TaskType>('task type', TASK_TYPES, value, onUnknown)
}

export function taskStatus (value: string, onUnknown: UnknownValueReporter): TaskStatus {
  return mapEnum<TaskStatus>('task status', TASK_STATUSES, value, onUnknown)
}

export function modelStatus (value: string, onUnknown: UnknownValueReporter): ModelStatus {
  const mapped = MODEL_STATUSES.get(normalize(value))
  if (mapped !== undefined) return mapped
  onUnknown('model status', value)
  return 'UNKNOWN'
}

/**
 * ISO-8601 in UTC with a Z. Visual Layer writes dataset times without a zone (they are UTC) and
 * with microseconds; task times with a Z. Milliseconds are kept only when not zero.
 * An unreadable timestamp gives null (reported) rather than failing the object.
 */
export function isoTimestamp (value: string | null, onUnknown: UnknownValueReporter): string | null {
  if (value === null || value === '') return null
  const trimmed = value.trim()
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(trimmed)
  // Cut fractions to milliseconds: Date parses at most three digits reliably.
  const cut = trimmed.replace(/(\.\d{3})\d+/, '$1')
  const ms = Date.parse(hasZone ? cut : `${cut}Z`)
  if (Number.isNaN(ms)) {
    onUnknown('timestamp', value)
    return null
  }
  return new Date(ms).toISOString().replace('.000Z', 'Z')
}

/** Progress as an integer 0..100. */
export function percent (value: number): number {
  return Math.min(100, Math.max(0, Math.round(value)))
}
