/*
 * The hand-written mapping of Visual Layer records to the contract's Dataset and Task, shared by the
 * bench's two comparison servers (the bare Fastify floor and graphql-yoga): what a developer writes
 * without the gateway, so that every server answers the same JSON for the same query (the bench
 * checks that before it measures).
 */
const normal = (value) => value.trim().toUpperCase().replace(/[\s-]+/g, '_')

const DATASET_STATUSES = new Set(['DRAFT', 'INDEXING', 'READ_ONLY', 'PARTIAL_INDEX', 'READY', 'ERROR'])
const TASK_STATUSES = new Set(['INITIALIZING', 'RUNNING', 'COMPLETED', 'FAILED', 'ABORTED'])
const TASK_TYPES = new Set(['DATASET_CREATION', 'MEDIA_ADDITION', 'REINDEX', 'ENRICHMENT', 'CUSTOM_METADATA', 'SNAPSHOT_RESTORE', 'SNAPSHOT_CLONE'])

export const enumValue = (known, value) => {
  if (value === null || value === undefined) return null
  const upper = normal(value)
  return known.has(upper) ? upper : 'UNKNOWN'
}
export const datasetStatus = (value) => enumValue(DATASET_STATUSES, value) ?? 'UNKNOWN'
export const taskStatus = (value) => enumValue(TASK_STATUSES, value) ?? 'UNKNOWN'
export const taskType = (value) => enumValue(TASK_TYPES, value) ?? 'UNKNOWN'

/** Dataset times come without a zone (UTC) and with microseconds; task times with a Z. */
export function iso (value) {
  if (value === null || value === undefined || value === '') return null
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/i.test(value) ? value : `${value}Z`
  const date = new Date(zoned)
  return Number.isNaN(date.getTime()) ? null : date.toISOString().replace('.000Z', 'Z')
}

export const percent = (value) => Math.min(100, Math.max(0, Math.round(value)))

/** Every Dataset field that needs no further upstream call. */
export function mapDataset (record) {
  const status = datasetStatus(record.status_new ?? record.status)
  return {
    id: record.id,
    displayName: record.display_name,
    description: record.description ?? null,
    sourceType: record.source_type ?? null,
    ownedBy: record.owned_by ?? null,
    createdAt: iso(record.created_at),
    status,
    progress: record.progress === null || record.progress === undefined ? (status === 'READY' ? 100 : 0) : percent(record.progress),
    imageCount: record.n_images,
    videoCount: record.n_videos,
    objectCount: record.n_objects,
    errorMessage: record.fatal_error_msg ?? null,
    isReady: status === 'READY'
  }
}

export function mapTask (record) {
  const type = taskType(record.task_type)
  const status = taskStatus(record.status)
  const creation = type === 'DATASET_CREATION'
  return {
    id: record.task_id,
    type,
    status,
    statusMessage: record.status_message ?? null,
    progress: record.progress_percentage === null || record.progress_percentage === undefined ? null : percent(record.progress_percentage),
    errorMessage: record.error_message ?? null,
    createdBy: record.created_by ?? null,
    startTime: iso(record.start_time),
    endTime: iso(record.end_time),
    datasetId: record.dataset_id,
    datasetName: record.dataset_name ?? null,
    datasetStatus: enumValue(DATASET_STATUSES, record.dataset_status),
    canAbort: creation && (status === 'INITIALIZING' || status === 'RUNNING'),
    canRetry: creation && (status === 'FAILED' || status === 'ABORTED')
  }
}
