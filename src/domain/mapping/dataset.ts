import type { Checked } from '../../upstream/checked.js'
import type { UpstreamCreationStatus, UpstreamDataset } from '../../upstream/schemas.js'
import type { CreationStatus } from '../../contract/types.js'
import type { DatasetParent } from '../parents.js'
import { guardBroken, type Dependents } from './broken.js'
import { mapOnce } from './once.js'
import { datasetStatus, isoTimestamp, percent, type UnknownValueReporter } from './values.js'

/*
 * A Visual Layer dataset record, and its creation status, as the contract's Dataset and
 * CreationStatus: statuses normalised, progress as a percentage, broken fields failing only the
 * contract fields they feed.
 */

const DEPENDENTS: Dependents<DatasetParent> = {
  display_name: ['displayName'],
  description: ['description'],
  source_type: ['sourceType'],
  owned_by: ['ownedBy'],
  created_at: ['createdAt'],
  status_new: ['status', 'isReady'],
  status: ['status', 'isReady'],
  progress: ['progress'],
  n_images: ['imageCount'],
  n_videos: ['videoCount'],
  n_objects: ['objectCount'],
  fatal_error_msg: ['errorMessage'],
  source_dataset_id: ['sourceDatasetId']
}

const mappedDatasets = new WeakMap<Checked<UpstreamDataset>, DatasetParent>()

export function mapDataset (checked: Checked<UpstreamDataset>, onUnknown: UnknownValueReporter): DatasetParent {
  return mapOnce(mappedDatasets, checked, onUnknown, mapDatasetRecord)
}

function mapDatasetRecord (checked: Checked<UpstreamDataset>, onUnknown: UnknownValueReporter): DatasetParent {
  const record = checked.value
  // `status_new` is authoritative; Visual Layer will rename it to `status`, so fall back to that.
  const rawStatus = record.status_new ?? record.status ?? null
  const status = rawStatus === null ? 'UNKNOWN' : datasetStatus(rawStatus, onUnknown)
  const mapped: DatasetParent = {
    id: record.id,
    displayName: record.display_name,
    description: record.description,
    sourceType: record.source_type,
    ownedBy: record.owned_by,
    createdAt: isoTimestamp(record.created_at ?? null, onUnknown),
    status,
    progress: record.progress === null || record.progress === undefined ? (status === 'READY' ? 100 : 0) : percent(record.progress),
    imageCount: record.n_images,
    videoCount: record.n_videos,
    objectCount: record.n_objects,
    errorMessage: record.fatal_error_msg,
    isReady: status === 'READY',
    sourceDatasetId: record.source_dataset_id
  }
  // The retired `status` field does not matter while `status_new` is there.
  const broken = typeof record.status_new === 'string' && checked.broken.has('status')
    ? { ...checked, broken: new Map([...checked.broken].filter(([field]) => field !== 'status')) }
    : checked
  return guardBroken(mapped, broken, DEPENDENTS, `dataset ${record.id}`)
}

export function mapCreationStatus (record: UpstreamCreationStatus, onUnknown: UnknownValueReporter): CreationStatus {
  const status = datasetStatus(record.status, onUnknown)
  return {
    status,
    progress: record.progress === null ? (status === 'READY' ? 100 : 0) : percent(record.progress)
  }
}
