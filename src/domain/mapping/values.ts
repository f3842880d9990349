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
  const quick = canonicalUtc(trimmed)
  if (quick !== null) return quick
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

/** UTC date-times as Visual Layer writes them: no zone or Z, any fraction of a second. */
const PLAIN_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z?$/
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/**
 * The common case of isoTimestamp without Date: a UTC time whose fields are all in range is rewritten
 * as text (the fraction cut to milliseconds, dropped when zero), which is what Date would give. Anything
 * else (an offset, 24:00, 30 February, which Date rolls over) returns null and goes the Date way.
 * Profiled: the task page normalises about a hundred timestamps a request.
 */
function canonicalUtc (value: string): string | null {
  const match = PLAIN_UTC.exec(value)
  if (match === null) return null
  const [, year, month, day, hour, minute, second, fraction] = match as unknown as string[]
  const y = Number(year)
  const m = Number(month)
  const leap = m === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)
  if (y < 1000 || m < 1 || m > 12 || Number(day) < 1 || Number(day) > (DAYS_IN_MONTH[m - 1] as number) + (leap ? 1 : 0)) return null
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) return null
  const ms = fraction === undefined ? '000' : `${fraction}00`.slice(0, 3)
  return `${year}-${month}-${day}T${hour}:${minute}:${second}${ms === '000' ? '' : `.${ms}`}Z`
}

/** Progress as an integer 0..100. */
export function percent (value: number): number {
  return Math.min(100, Math.max(0, Math.round(value)))
}
