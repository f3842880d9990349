import type { UpstreamCreationStatus, UpstreamDataset } from '../../upstream/schemas.js'
import type { CreationStatus } from '../generated/types.js'
import type { DatasetParent } from '../parents.js'
import { datasetStatus, isoTimestamp, percent, type UnknownValueReporter } from './values.js'

export function mapDataset (record: UpstreamDataset, onUnknown: UnknownValueReporter): DatasetParent {
  // `status_new` is authoritative; Visual Layer will rename it to `status`, so fall back to that.
  const rawStatus = record.status_new ?? record.status
  const status = rawStatus === null ? 'UNKNOWN' : datasetStatus(rawStatus, onUnknown)
  return {
    id: record.id,
    displayName: record.display_name,
    description: record.description,
    sourceType: record.source_type,
    ownedBy: record.owned_by,
    createdAt: isoTimestamp(record.created_at, onUnknown),
    status,
    progress: record.progress === null ? (status === 'READY' ? 100 : 0) : percent(record.progress),
    imageCount: record.n_images,
    videoCount: record.n_videos,
    objectCount: record.n_objects,
    errorMessage: record.fatal_error_msg,
    isReady: status === 'READY',
    sourceDatasetId: record.source_dataset_id
  }
}

export function mapCreationStatus (record: UpstreamCreationStatus, onUnknown: UnknownValueReporter): CreationStatus {
  const status = datasetStatus(record.status, onUnknown)
  return {
    status,
    progress: record.progress === null ? (status === 'READY' ? 100 : 0) : percent(record.progress)
  }
}
