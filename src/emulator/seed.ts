import { DEMO_ACCOUNTS } from './accounts.js'
import { seededUuid } from './ids.js'
import type { DatasetRecord, EmulatorState, TaskFailure, TaskRecord, TaskType } from './records.js'

/*
 * The seeded demo world. Every time is relative to the emulator clock's start (`base`), so a
 * frozen clock gives identical data on every run; every id is fixed.
 */

const SEC = 1000
const MIN = 60 * SEC
const HOUR = 60 * MIN
const DAY = 24 * HOUR

/** Milliseconds before the clock's start. */
function ago (days: number, hours = 0, minutes = 0, seconds = 0): number {
  return days * DAY + hours * HOUR + minutes * MIN + seconds * SEC
}

const ACME = DEMO_ACCOUNTS.primary
const GLOBEX = DEMO_ACCOUNTS.secondary
const RACHEL = ACME.email
const DAN = 'dan.okafor@acme.example'
const PRIYA = 'priya.shah@acme.example'
const ALEX = GLOBEX.email
const MIRA = 'mira.jensen@globex.example'

const DATASET_IDS = {
  /** Primary account. READY. The dataset id of Visual Layer's own task-list example. */
  ready: 'b1a39406-123d-11f1-9353-fa39f6ed1f22',
  /** Primary. READY; has a never-ending CUSTOM_METADATA import (progress null) that does not lock it. */
  readySecond: 'c7e2d1a0-0f4b-11f1-8a6d-fa39f6ed1f22',
  /** Primary. READY; the source of `enriched`. */
  enrichedSource: 'd3f81c42-1b7e-11f1-a0b2-fa39f6ed1f22',
  /** Primary. READY; enriched copy of `enrichedSource` with CAPTION_IMAGES + OBJECT_DETECTION applied. */
  enriched: 'e9a4b6c8-2c31-11f1-b7d4-fa39f6ed1f22',
  /** Primary. READ ONLY: a MEDIA_ADDITION started 25 min before the start runs for 4 hours. */
  readOnly: '5a2c7e90-3d44-11f1-9e18-fa39f6ed1f22',
  /** Primary. PARTIAL INDEX: media was added after its last reindex. */
  partialIndex: '6b1d8fa2-4e55-11f1-8c27-fa39f6ed1f22',
  /** Primary. INDEXING at the start (14 %); READY 30 s after the start. Its creation task is RUNNING. */
  indexing: '7c4e9b13-5f66-11f1-b3a9-fa39f6ed1f22',
  /** Primary. DRAFT until 60 s after the start, INDEXING until 90 s, then READY. Creation task INITIALIZING. */
  draft: '8d5fac24-6077-11f1-a4ba-fa39f6ed1f22',
  /** Primary. ERROR: its creation task FAILED (retryable). */
  error: '9e60bd35-7188-11f1-95cb-fa39f6ed1f22',
  /** Primary. ERROR: its creation task was ABORTED (retryable). */
  aborted: 'af71ce46-8299-11f1-86dc-fa39f6ed1f22',
  /** Primary. READY but hidden: listed only with `include_hidden=true`. */
  hidden: 'b082df57-93aa-11f1-97ed-fa39f6ed1f22',
  /** Secondary account. READY. */
  secondaryAccount: 'c193e068-a4bb-11f1-a8fe-0242ac120002',
  /** Secondary. READY. */
  secondaryReady: 'd2a4f179-b5cc-11f1-b90f-0242ac120002',
  /** Secondary. ERROR: its creation task FAILED. */
  secondaryError: 'e3b5028a-c6dd-11f1-8a10-0242ac120002'
} as const
type DatasetKey = keyof typeof DATASET_IDS

interface DatasetSpec {
  readonly key: DatasetKey
  readonly account: 'primary' | 'secondary'
  readonly name: string
  readonly description: string
  readonly sourceType: string
  readonly images: number
  readonly videos: number
  readonly objects?: number
  readonly hidden?: boolean
  /** Sub-second digits of `created_at` (0..999999), for Visual Layer's microsecond timestamps. */
  readonly micros: number
  /** Key of the task that creates it (its `created_at` is that task's start). */
  readonly creationTask: TaskKey
  readonly sourceDataset?: DatasetKey
  readonly models?: Readonly<Record<string, string>>
}

interface TaskSpec {
  readonly key: string
  readonly dataset: DatasetKey
  readonly type: TaskType
  readonly by: string
  /** Start, in ms before the clock's start. */
  readonly ago: number
  readonly initMs: number
  readonly runMs: number
  readonly failure?: TaskFailure
  /** Abort time, in ms after the task's start. */
  readonly abortAfterMs?: number
}

const DATASETS: readonly DatasetSpec[] = [
  { key: 'ready', account: 'primary', name: 'Product Images Q1', description: 'Catalog photos for the Q1 product launch', sourceType: 'BUCKET', images: 4812, videos: 0, micros: 439563, creationTask: 'readyCreation' },
  { key: 'readySecond', account: 'primary', name: 'Training Set v2', description: 'Curated training images for the shelf-detection model', sourceType: 'BUCKET', images: 12500, videos: 36, micros: 258176, creationTask: 'readySecondCreation' },
  { key: 'enrichedSource', account: 'primary', name: 'Retail Shelf Photos', description: 'Store audit photos from 40 branches', sourceType: 'LOCAL', images: 2260, videos: 0, micros: 514002, creationTask: 'enrichedSourceCreation' },
  { key: 'enriched', account: 'primary', name: 'Retail Shelf Photos (enriched)', description: 'Store audit photos from 40 branches', sourceType: 'LOCAL', images: 2260, videos: 0, objects: 18934, micros: 782554, creationTask: 'enrichedSourceEnrichment', sourceDataset: 'enrichedSource', models: { CAPTION_IMAGES: 'vl_image_captioner_v00', OBJECT_DETECTION: 'vl_object_detector_v00' } },
  { key: 'readOnly', account: 'primary', name: 'Warehouse Inspection', description: 'Forklift and rack inspection footage', sourceType: 'BUCKET', images: 8760, videos: 120, micros: 150631, creationTask: 'readOnlyCreation' },
  { key: 'partialIndex', account: 'primary', name: 'Street Scenes 2025', description: '', sourceType: 'BUCKET', images: 15320, videos: 410, micros: 175954, creationTask: 'partialIndexCreation' },
  { key: 'indexing', account: 'primary', name: 'Drone Survey March', description: 'Roof survey flights, March batch', sourceType: 'LOCAL', images: 3140, videos: 12, micros: 961168, creationTask: 'indexingCreation' },
  { key: 'draft', account: 'primary', name: 'Customer Uploads April', description: '', sourceType: 'LOCAL', images: 640, videos: 0, micros: 661913, creationTask: 'draftCreation' },
  { key: 'error', account: 'primary', name: 'Medical Scans Batch 7', description: 'Anonymised X-ray scans', sourceType: 'BUCKET', images: 1204, videos: 0, micros: 198702, creationTask: 'errorCreation' },
  { key: 'aborted', account: 'primary', name: 'Holiday Campaign 2025', description: 'Lifestyle shots for the holiday campaign', sourceType: 'LOCAL', images: 980, videos: 4, micros: 483452, creationTask: 'abortedCreation' },
  { key: 'hidden', account: 'primary', name: 'Archived: Legacy Catalog 2023', description: 'Kept for audits; hidden from the dataset inventory', sourceType: 'BUCKET', images: 22000, videos: 0, hidden: true, micros: 711097, creationTask: 'hiddenCreation' },
  { key: 'secondaryAccount', account: 'secondary', name: 'Assembly Line Cameras', description: 'Station 1-12 camera stills', sourceType: 'BUCKET', images: 7420, videos: 64, micros: 160816, creationTask: 'secondaryAccountCreation' },
  { key: 'secondaryReady', account: 'secondary', name: 'Robot Grasp Trials', description: 'Grasp attempts recorded in lab B', sourceType: 'LOCAL', images: 3300, videos: 210, micros: 632084, creationTask: 'secondaryReadyCreation' },
  { key: 'secondaryError', account: 'secondary', name: 'Bin Picking Sim Renders', description: '', sourceType: 'LOCAL', images: 5000, videos: 0, micros: 325127, creationTask: 'secondaryErrorCreation' }
]

const TASKS = [
  // Product Images Q1
  { key: 'readyCreation', dataset: 'ready', type: 'DATASET_CREATION', by: RACHEL, ago: ago(41, 3, 12, 5), initMs: 20 * SEC, runMs: 18 * MIN },
  { key: 'readyMetadata', dataset: 'ready', type: 'CUSTOM_METADATA', by: RACHEL, ago: ago(40, 1, 47), initMs: 10 * SEC, runMs: 2 * MIN },
  { key: 'readyEnrichmentFailed', dataset: 'ready', type: 'ENRICHMENT', by: DAN, ago: ago(38, 6, 30), initMs: 30 * SEC, runMs: 11 * MIN, failure: { atProgress: 45, errorMessage: 'Model timeout after 300s' } },
  { key: 'readyMetadataFailed', dataset: 'ready', type: 'CUSTOM_METADATA', by: PRIYA, ago: ago(37, 2, 5), initMs: 5 * SEC, runMs: 1 * MIN, failure: { atProgress: 10, errorMessage: "Column 'sku' is missing from metadata.csv (row 1)" } },
  { key: 'readyMediaAddition', dataset: 'ready', type: 'MEDIA_ADDITION', by: RACHEL, ago: ago(33, 4, 40), initMs: 15 * SEC, runMs: 9 * MIN },
  { key: 'readyReindex', dataset: 'ready', type: 'REINDEX', by: RACHEL, ago: ago(33, 3, 22), initMs: 20 * SEC, runMs: 14 * MIN },
  { key: 'readySnapshotRestore', dataset: 'ready', type: 'SNAPSHOT_RESTORE', by: DAN, ago: ago(26, 8, 3), initMs: 10 * SEC, runMs: 6 * MIN },
  { key: 'readySnapshotClone', dataset: 'ready', type: 'SNAPSHOT_CLONE', by: PRIYA, ago: ago(19, 5, 51), initMs: 10 * SEC, runMs: 8 * MIN },
  { key: 'readyMediaAdditionLate', dataset: 'ready', type: 'MEDIA_ADDITION', by: RACHEL, ago: ago(9, 7, 14), initMs: 15 * SEC, runMs: 12 * MIN },
  { key: 'readyReindexFailed', dataset: 'ready', type: 'REINDEX', by: DAN, ago: ago(9, 6, 40), initMs: 20 * SEC, runMs: 16 * MIN, failure: { atProgress: 71, errorMessage: 'Index build ran out of memory on shard 3; retry the reindex' } },
  { key: 'readyReindexLate', dataset: 'ready', type: 'REINDEX', by: DAN, ago: ago(8, 22, 9), initMs: 20 * SEC, runMs: 15 * MIN },
  // Training Set v2
  { key: 'readySecondCreation', dataset: 'readySecond', type: 'DATASET_CREATION', by: DAN, ago: ago(35, 2, 18, 40), initMs: 25 * SEC, runMs: 52 * MIN },
  { key: 'readySecondMediaAdditionFailed', dataset: 'readySecond', type: 'MEDIA_ADDITION', by: DAN, ago: ago(31, 9, 2), initMs: 15 * SEC, runMs: 20 * MIN, failure: { atProgress: 8, errorMessage: 'Upload session expired before 1,840 of 2,000 files arrived' } },
  { key: 'readySecondMediaAddition', dataset: 'readySecond', type: 'MEDIA_ADDITION', by: DAN, ago: ago(30, 5, 36), initMs: 15 * SEC, runMs: 21 * MIN },
  { key: 'readySecondReindex', dataset: 'readySecond', type: 'REINDEX', by: RACHEL, ago: ago(30, 3, 10), initMs: 20 * SEC, runMs: 38 * MIN },
  { key: 'readySecondSnapshotRestoreFailed', dataset: 'readySecond', type: 'SNAPSHOT_RESTORE', by: PRIYA, ago: ago(16, 4, 44), initMs: 10 * SEC, runMs: 5 * MIN, failure: { atProgress: 3, errorMessage: "Snapshot 'pre-relabel' was taken on an older index version and cannot be restored" } },
  { key: 'readySecondMetadata', dataset: 'readySecond', type: 'CUSTOM_METADATA', by: DAN, ago: ago(15, 1, 25), initMs: 10 * SEC, runMs: 4 * MIN },
  { key: 'readySecondSnapshotClone', dataset: 'readySecond', type: 'SNAPSHOT_CLONE', by: RACHEL, ago: ago(12, 6, 58), initMs: 10 * SEC, runMs: 11 * MIN },
  { key: 'readySecondMetadataRunning', dataset: 'readySecond', type: 'CUSTOM_METADATA', by: PRIYA, ago: ago(0, 0, 8), initMs: 30 * SEC, runMs: 3 * HOUR },
  // Retail Shelf Photos and its enriched copy
  { key: 'enrichedSourceCreation', dataset: 'enrichedSource', type: 'DATASET_CREATION', by: PRIYA, ago: ago(28, 5, 33, 12), initMs: 20 * SEC, runMs: 12 * MIN },
  { key: 'enrichedSourceMetadata', dataset: 'enrichedSource', type: 'CUSTOM_METADATA', by: PRIYA, ago: ago(27, 3, 2), initMs: 10 * SEC, runMs: 2 * MIN },
  { key: 'enrichedSourceEnrichment', dataset: 'enrichedSource', type: 'ENRICHMENT', by: PRIYA, ago: ago(21, 7, 45, 30), initMs: 40 * SEC, runMs: 26 * MIN },
  { key: 'enrichedSourceEnrichmentFailed', dataset: 'enrichedSource', type: 'ENRICHMENT', by: RACHEL, ago: ago(11, 2, 17), initMs: 40 * SEC, runMs: 30 * MIN, failure: { atProgress: 12, errorMessage: 'GPU quota exceeded for enrichment jobs; try again later' } },
  { key: 'enrichedSourceSnapshotRestore', dataset: 'enrichedSource', type: 'SNAPSHOT_RESTORE', by: PRIYA, ago: ago(6, 4, 20), initMs: 10 * SEC, runMs: 4 * MIN },
  { key: 'enrichedMetadata', dataset: 'enriched', type: 'CUSTOM_METADATA', by: PRIYA, ago: ago(20, 8, 12), initMs: 10 * SEC, runMs: 3 * MIN },
  { key: 'enrichedSnapshotClone', dataset: 'enriched', type: 'SNAPSHOT_CLONE', by: DAN, ago: ago(4, 3, 31), initMs: 10 * SEC, runMs: 7 * MIN },
  // Warehouse Inspection
  { key: 'readOnlyCreation', dataset: 'readOnly', type: 'DATASET_CREATION', by: RACHEL, ago: ago(14, 6, 2, 51), initMs: 30 * SEC, runMs: 45 * MIN },
  { key: 'readOnlyMediaAddition', dataset: 'readOnly', type: 'MEDIA_ADDITION', by: RACHEL, ago: ago(10, 9, 13), initMs: 15 * SEC, runMs: 26 * MIN },
  { key: 'readOnlyReindex', dataset: 'readOnly', type: 'REINDEX', by: DAN, ago: ago(10, 6, 5), initMs: 20 * SEC, runMs: 41 * MIN },
  { key: 'readOnlyMetadataFailed', dataset: 'readOnly', type: 'CUSTOM_METADATA', by: DAN, ago: ago(7, 5, 48), initMs: 5 * SEC, runMs: 1 * MIN, failure: { atProgress: 20, errorMessage: 'metadata.json is not valid JSON (line 212, column 7)' } },
  { key: 'readOnlyMetadata', dataset: 'readOnly', type: 'CUSTOM_METADATA', by: DAN, ago: ago(7, 5, 21), initMs: 5 * SEC, runMs: 3 * MIN },
  { key: 'readOnlyMediaAdditionRunning', dataset: 'readOnly', type: 'MEDIA_ADDITION', by: DAN, ago: ago(0, 0, 25), initMs: 1 * MIN, runMs: 4 * HOUR },
  // Street Scenes 2025
  { key: 'partialIndexCreation', dataset: 'partialIndex', type: 'DATASET_CREATION', by: DAN, ago: ago(24, 1, 7, 19), initMs: 30 * SEC, runMs: 74 * MIN },
  { key: 'partialIndexMediaAddition', dataset: 'partialIndex', type: 'MEDIA_ADDITION', by: DAN, ago: ago(20, 10, 31), initMs: 15 * SEC, runMs: 33 * MIN },
  { key: 'partialIndexReindex', dataset: 'partialIndex', type: 'REINDEX', by: DAN, ago: ago(20, 8, 2), initMs: 20 * SEC, runMs: 58 * MIN },
  { key: 'partialIndexSnapshotRestore', dataset: 'partialIndex', type: 'SNAPSHOT_RESTORE', by: RACHEL, ago: ago(13, 2, 39), initMs: 10 * SEC, runMs: 9 * MIN },
  { key: 'partialIndexMediaAdditionLate', dataset: 'partialIndex', type: 'MEDIA_ADDITION', by: PRIYA, ago: ago(2, 4, 26), initMs: 15 * SEC, runMs: 19 * MIN },
  { key: 'partialIndexSnapshotCloneFailed', dataset: 'partialIndex', type: 'SNAPSHOT_CLONE', by: DAN, ago: ago(1, 3, 3), initMs: 10 * SEC, runMs: 10 * MIN, failure: { atProgress: 0, errorMessage: 'Dataset quota reached (50 datasets); delete unused datasets and retry' } },
  // Datasets being built, or whose creation did not finish
  { key: 'indexingCreation', dataset: 'indexing', type: 'DATASET_CREATION', by: RACHEL, ago: ago(0, 0, 0, 10), initMs: 5 * SEC, runMs: 35 * SEC },
  { key: 'draftCreation', dataset: 'draft', type: 'DATASET_CREATION', by: PRIYA, ago: ago(0, 0, 0, 30), initMs: 90 * SEC, runMs: 30 * SEC },
  { key: 'errorCreation', dataset: 'error', type: 'DATASET_CREATION', by: RACHEL, ago: ago(3, 5, 9, 44), initMs: 40 * SEC, runMs: 12 * MIN, failure: { atProgress: 37, errorMessage: 'Failed to read 312 of 1,204 files from s3://acme-medical-imaging/batch-7: AccessDenied' } },
  { key: 'abortedCreation', dataset: 'aborted', type: 'DATASET_CREATION', by: DAN, ago: ago(6, 2, 51, 8), initMs: 30 * SEC, runMs: 10 * MIN, abortAfterMs: 4 * MIN },
  // Archived: Legacy Catalog 2023
  { key: 'hiddenCreation', dataset: 'hidden', type: 'DATASET_CREATION', by: RACHEL, ago: ago(45, 4, 0, 12), initMs: 30 * SEC, runMs: 95 * MIN },
  { key: 'hiddenMetadata', dataset: 'hidden', type: 'CUSTOM_METADATA', by: RACHEL, ago: ago(44, 2, 18), initMs: 10 * SEC, runMs: 6 * MIN },
  { key: 'hiddenMediaAdditionFailed', dataset: 'hidden', type: 'MEDIA_ADDITION', by: DAN, ago: ago(43, 7, 40), initMs: 15 * SEC, runMs: 10 * MIN, failure: { atProgress: 0, errorMessage: 'Source bucket s3://acme-legacy-catalog no longer exists' } },
  { key: 'hiddenSnapshotClone', dataset: 'hidden', type: 'SNAPSHOT_CLONE', by: RACHEL, ago: ago(42, 1, 9), initMs: 10 * SEC, runMs: 14 * MIN },
  // Secondary account: Assembly Line Cameras
  { key: 'secondaryAccountCreation', dataset: 'secondaryAccount', type: 'DATASET_CREATION', by: ALEX, ago: ago(30, 2, 44, 3), initMs: 25 * SEC, runMs: 36 * MIN },
  { key: 'secondaryAccountMediaAddition', dataset: 'secondaryAccount', type: 'MEDIA_ADDITION', by: MIRA, ago: ago(25, 6, 12), initMs: 15 * SEC, runMs: 17 * MIN },
  { key: 'secondaryAccountReindex', dataset: 'secondaryAccount', type: 'REINDEX', by: MIRA, ago: ago(25, 5, 20), initMs: 20 * SEC, runMs: 29 * MIN },
  { key: 'secondaryAccountMetadata', dataset: 'secondaryAccount', type: 'CUSTOM_METADATA', by: ALEX, ago: ago(22, 3, 3), initMs: 10 * SEC, runMs: 2 * MIN },
  { key: 'secondaryAccountEnrichmentFailed', dataset: 'secondaryAccount', type: 'ENRICHMENT', by: ALEX, ago: ago(17, 8, 40), initMs: 40 * SEC, runMs: 40 * MIN, failure: { atProgress: 63, errorMessage: 'Model timeout after 300s' } },
  { key: 'secondaryAccountSnapshotRestore', dataset: 'secondaryAccount', type: 'SNAPSHOT_RESTORE', by: MIRA, ago: ago(9, 1, 55), initMs: 10 * SEC, runMs: 7 * MIN },
  { key: 'secondaryAccountSnapshotClone', dataset: 'secondaryAccount', type: 'SNAPSHOT_CLONE', by: ALEX, ago: ago(5, 4, 27), initMs: 10 * SEC, runMs: 9 * MIN },
  { key: 'secondaryAccountMetadataLate', dataset: 'secondaryAccount', type: 'CUSTOM_METADATA', by: MIRA, ago: ago(3, 6, 14), initMs: 10 * SEC, runMs: 3 * MIN },
  // Secondary account: Robot Grasp Trials
  { key: 'secondaryReadyCreation', dataset: 'secondaryReady', type: 'DATASET_CREATION', by: MIRA, ago: ago(18, 3, 31, 26), initMs: 25 * SEC, runMs: 29 * MIN },
  { key: 'secondaryReadyMetadata', dataset: 'secondaryReady', type: 'CUSTOM_METADATA', by: MIRA, ago: ago(17, 2, 6), initMs: 10 * SEC, runMs: 2 * MIN },
  { key: 'secondaryReadyMetadataFailed', dataset: 'secondaryReady', type: 'CUSTOM_METADATA', by: ALEX, ago: ago(15, 7, 50), initMs: 5 * SEC, runMs: 1 * MIN, failure: { atProgress: 30, errorMessage: "Unknown field type 'vector3' in metadata schema" } },
  { key: 'secondaryReadyMediaAddition', dataset: 'secondaryReady', type: 'MEDIA_ADDITION', by: MIRA, ago: ago(11, 9, 19), initMs: 15 * SEC, runMs: 24 * MIN },
  { key: 'secondaryReadyReindexFailed', dataset: 'secondaryReady', type: 'REINDEX', by: MIRA, ago: ago(11, 8, 40), initMs: 20 * SEC, runMs: 30 * MIN, failure: { atProgress: 88, errorMessage: 'Clustering worker crashed (exit code 137); retry the reindex' } },
  { key: 'secondaryReadyReindex', dataset: 'secondaryReady', type: 'REINDEX', by: ALEX, ago: ago(11, 5, 2), initMs: 20 * SEC, runMs: 31 * MIN },
  { key: 'secondaryReadySnapshotRestoreFailed', dataset: 'secondaryReady', type: 'SNAPSHOT_RESTORE', by: ALEX, ago: ago(7, 2, 33), initMs: 10 * SEC, runMs: 6 * MIN, failure: { atProgress: 50, errorMessage: 'Snapshot storage is temporarily unavailable' } },
  // Secondary account: Bin Picking Sim Renders
  { key: 'secondaryErrorCreation', dataset: 'secondaryError', type: 'DATASET_CREATION', by: ALEX, ago: ago(5, 1, 12, 37), initMs: 30 * SEC, runMs: 20 * MIN, failure: { atProgress: 4, errorMessage: 'Unsupported image format in 57 files (.exr); convert them to PNG or JPEG and retry' } }
] as const satisfies readonly TaskSpec[]

type TaskKey = (typeof TASKS)[number]['key']

const MODEL_IDS = Object.freeze({
  imageCaptioner: 'vl_image_captioner_v00',
  objectDetector: 'vl_object_detector_v00',
  objectCaptioner: 'vl_object_captioner_v00',
  /** `Coming Soon`: listed but refused. */
  faceDetector: 'nvidia_face_detector_v00'
})

/** Fixed ids of the seed, for tests and docs. */
export const SEED = Object.freeze({
  datasets: Object.freeze(DATASET_IDS),
  /** Every seeded task by name; ids are stable (derived from the name). */
  tasks: Object.freeze(Object.fromEntries(TASKS.map((task) => [task.key, seededUuid(`task:${task.key}`)]))) as Readonly<Record<TaskKey, string>>,
  /** Enrichment context ids, one per dataset. */
  enrichmentContexts: Object.freeze(
    Object.fromEntries(DATASETS.map((dataset) => [dataset.key, seededUuid(`context:${dataset.key}`)]))
  ) as Readonly<Record<DatasetKey, string>>,
  models: MODEL_IDS
})

/** The id of the `index`th extra dataset (EmulatorOptions.extraDatasets), stable across runs. */
export function extraDatasetId (index: number): string {
  return seededUuid(`extra-dataset:${index}`)
}

/**
 * Builds the seeded state with every time relative to `base` (the clock's start), plus `extraDatasets`
 * READY datasets of the primary account (`Extra dataset <i>`, ids from extraDatasetId) for benchmarks
 * that ask each request for a dataset of its own; they share the creation task of `ready`.
 */
export function createSeedState (base: number, extraDatasets = 0): EmulatorState {
  const accountKey = (account: 'primary' | 'secondary'): string => DEMO_ACCOUNTS[account].apiKey
  const datasetAccount = new Map(DATASETS.map((spec) => [spec.key, accountKey(spec.account)]))
  const tasks = new Map<string, TaskRecord>()
  for (const spec of TASKS as readonly TaskSpec[] & typeof TASKS) {
    const startMs = base - spec.ago
    const id = SEED.tasks[spec.key]
    tasks.set(id, {
      id,
      accountKey: datasetAccount.get(spec.dataset) as string,
      datasetId: DATASET_IDS[spec.dataset],
      type: spec.type,
      createdBy: spec.by,
      startMs,
      initMs: spec.initMs,
      runMs: spec.runMs,
      failure: spec.failure ?? null,
      abortedAtMs: spec.abortAfterMs === undefined ? null : startMs + spec.abortAfterMs
    })
  }
  const datasets = new Map<string, DatasetRecord>()
  for (const spec of DATASETS) {
    const creationTask = tasks.get(SEED.tasks[spec.creationTask]) as TaskRecord
    datasets.set(DATASET_IDS[spec.key], {
      id: DATASET_IDS[spec.key],
      accountKey: accountKey(spec.account),
      displayName: spec.name,
      description: spec.description,
      sourceType: spec.sourceType,
      ownedBy: 'VL',
      // The dataset record is written just after its creating task starts.
      createdAtMs: creationTask.startMs + Math.floor(spec.micros / 1000),
      createdAtMicros: spec.micros % 1000,
      createdBy: creationTask.createdBy,
      hidden: spec.hidden ?? false,
      nImages: spec.images,
      nVideos: spec.videos,
      nObjects: spec.objects ?? 0,
      sourceDatasetId: spec.sourceDataset === undefined ? null : DATASET_IDS[spec.sourceDataset],
      creationTaskId: creationTask.id,
      enrichmentContextId: SEED.enrichmentContexts[spec.key],
      enrichmentModels: Object.freeze({ ...spec.models })
    })
  }
  const ready = datasets.get(DATASET_IDS.ready) as DatasetRecord
  for (let index = 0; index < extraDatasets; index++) {
    const id = extraDatasetId(index)
    datasets.set(id, { ...ready, id, displayName: `Extra dataset ${index}`, enrichmentContextId: seededUuid(`context:extra-dataset:${index}`) })
  }
  return { datasets, tasks }
}
