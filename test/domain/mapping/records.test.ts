import { describe, expect, it } from 'vitest'
import { mapCreationStatus, mapDataset } from '../../../src/domain/mapping/dataset.js'
import { mapEnrichmentContext, mapModel } from '../../../src/domain/mapping/model.js'
import { mapTask } from '../../../src/domain/mapping/task.js'
import { mapTaskPage } from '../../../src/domain/mapping/task-page.js'
import { checkedDatasetSchema as datasetSchema, checkedModelSchema as modelSchema, checkedTaskSchema as taskSchema, enrichmentContextSchema, taskPageSchema } from '../../../src/upstream/schemas.js'

const ignore = (): void => {}

// The example record of the "Retrieve Dataset Status" page.
const documentedDataset = {
  id: 'ad48d250-1232-11f1-bfca-fa39f6ed1f22',
  display_name: 'My Dataset',
  description: '',
  source_type: 'BUCKET',
  owned_by: 'VL',
  created_at: '2025-04-24T07:44:46.136915',
  status_new: 'READY',
  progress: 100,
  n_images: 26,
  n_videos: 0,
  n_objects: 0,
  fatal_error_msg: null,
  source_dataset_id: null
}

// The example task of the Task Manager page.
const documentedTask = {
  task_id: 'a1b2c3d4-5678-90ab-cdef-1234567890ab',
  dataset_id: 'b1a39406-123d-11f1-9353-fa39f6ed1f22',
  dataset_name: 'Product Images Q1',
  dataset_status: 'READY',
  created_by: 'rachel@visual-layer.com',
  task_type: 'ENRICHMENT',
  status: 'FAILED',
  status_message: 'Enrichment failed',
  progress_percentage: 45,
  error_message: 'Model timeout after 300s',
  start_time: '2026-03-01T14:30:00Z',
  end_time: '2026-03-01T14:35:12Z'
}

describe('mapDataset', () => {
  it('maps the documented dataset record to the contract', () => {
    expect(mapDataset(datasetSchema.parse(documentedDataset), ignore)).toEqual({
      id: 'ad48d250-1232-11f1-bfca-fa39f6ed1f22',
      displayName: 'My Dataset',
      description: '',
      sourceType: 'BUCKET',
      ownedBy: 'VL',
      createdAt: '2025-04-24T07:44:46.136Z',
      status: 'READY',
      progress: 100,
      imageCount: 26,
      videoCount: 0,
      objectCount: 0,
      errorMessage: null,
      isReady: true,
      sourceDatasetId: null
    })
  })

  it('reads `status` when `status_new` is absent (the announced rename), accepting the new values there', () => {
    const { status_new: _ignored, ...renamed } = documentedDataset
    const record = datasetSchema.parse({ ...renamed, status: 'READ ONLY', progress: 40 })
    expect(mapDataset(record, ignore)).toMatchObject({ status: 'READ_ONLY', isReady: false, progress: 40 })
  })

  it('prefers status_new over the retired status field', () => {
    const record = datasetSchema.parse({ ...documentedDataset, status: 'FATAL_ERROR', status_new: 'ERROR', fatal_error_msg: 'No images found' })
    expect(mapDataset(record, ignore)).toMatchObject({ status: 'ERROR', errorMessage: 'No images found', isReady: false })
  })

  it('tolerates extra upstream fields and missing optional ones', () => {
    const record = datasetSchema.parse({ id: 'ad48d250-1232-11f1-bfca-fa39f6ed1f22', display_name: 'Bare', status_new: 'DRAFT', preview_uri: 'x', created_by: 'y' })
    expect(mapDataset(record, ignore)).toEqual({
      id: 'ad48d250-1232-11f1-bfca-fa39f6ed1f22',
      displayName: 'Bare',
      description: null,
      sourceType: null,
      ownedBy: null,
      createdAt: null,
      status: 'DRAFT',
      progress: 0,
      imageCount: 0,
      videoCount: 0,
      objectCount: 0,
      errorMessage: null,
      isReady: false,
      sourceDatasetId: null
    })
  })

  it('fails only the fields fed by a broken upstream field, each with UPSTREAM_CONTRACT', () => {
    const mapped = mapDataset(datasetSchema.parse({ ...documentedDataset, n_images: 'many', status_new: 7 }), ignore)
    expect(mapped.displayName).toBe('My Dataset')
    expect(mapped.videoCount).toBe(0)
    expect(() => mapped.imageCount).toThrow('Visual Layer sent an invalid n_images for dataset ad48d250-1232-11f1-bfca-fa39f6ed1f22, so imageCount cannot be shown. This is logged for the operators.')
    expect(() => mapped.status).toThrow('Visual Layer sent an invalid status_new for dataset ad48d250-1232-11f1-bfca-fa39f6ed1f22, so status cannot be shown.')
    expect(() => mapped.isReady).toThrow(expect.objectContaining({ code: 'UPSTREAM_CONTRACT' }))
  })

  it('ignores a broken retired status field while status_new is there', () => {
    const mapped = mapDataset(datasetSchema.parse({ ...documentedDataset, status: 42 }), ignore)
    expect([mapped.status, mapped.isReady]).toEqual(['READY', true])
  })

  it('refuses a record without a usable id as a whole', () => {
    expect(datasetSchema.safeParse({ ...documentedDataset, id: 5 }).success).toBe(false)
    expect(datasetSchema.safeParse('not an object').success).toBe(false)
  })

  it('maps creation status', () => {
    expect(mapCreationStatus({ status: 'INDEXING', progress: 42.4 }, ignore)).toEqual({ status: 'INDEXING', progress: 42 })
    expect(mapCreationStatus({ status: 'READY', progress: null }, ignore)).toEqual({ status: 'READY', progress: 100 })
  })
})

describe('mapTask', () => {
  it('maps the documented task record to the contract', () => {
    expect(mapTask(taskSchema.parse(documentedTask), ignore)).toEqual({
      id: 'a1b2c3d4-5678-90ab-cdef-1234567890ab',
      type: 'ENRICHMENT',
      status: 'FAILED',
      statusMessage: 'Enrichment failed',
      progress: 45,
      errorMessage: 'Model timeout after 300s',
      createdBy: 'rachel@visual-layer.com',
      startTime: '2026-03-01T14:30:00Z',
      endTime: '2026-03-01T14:35:12Z',
      datasetId: 'b1a39406-123d-11f1-9353-fa39f6ed1f22',
      datasetName: 'Product Images Q1',
      datasetStatus: 'READY',
      canAbort: false,
      canRetry: false
    })
  })

  it('allows abort only on unfinished dataset-creation tasks and retry only on FAILED or ABORTED ones', () => {
    const flags = (taskType: string, status: string): [boolean, boolean] => {
      const task = mapTask(taskSchema.parse({ ...documentedTask, task_type: taskType, status }), ignore)
      return [task.canAbort, task.canRetry]
    }
    expect(flags('DATASET_CREATION', 'INITIALIZING')).toEqual([true, false])
    expect(flags('DATASET_CREATION', 'RUNNING')).toEqual([true, false])
    expect(flags('DATASET_CREATION', 'COMPLETED')).toEqual([false, false])
    expect(flags('DATASET_CREATION', 'FAILED')).toEqual([false, true])
    expect(flags('DATASET_CREATION', 'ABORTED')).toEqual([false, true])
    expect(flags('DATASET_CREATION', 'SOMETHING_NEW')).toEqual([false, false])
    expect(flags('ENRICHMENT', 'RUNNING')).toEqual([false, false])
    expect(flags('REINDEX', 'FAILED')).toEqual([false, false])
  })

  it('keeps an unknown progress as null and maps the underscored dataset status', () => {
    const task = mapTask(taskSchema.parse({ ...documentedTask, progress_percentage: null, dataset_status: 'READ_ONLY', end_time: null }), ignore)
    expect([task.progress, task.datasetStatus, task.endTime]).toEqual([null, 'READ_ONLY', null])
  })

  it('computes hasNextPage from total, page and page size', () => {
    const page = (total: number, p: number, size: number): boolean =>
      mapTaskPage(taskPageSchema.parse({ tasks: [], total, page: p, page_size: size }), ignore).hasNextPage
    expect([page(45, 1, 20), page(45, 2, 20), page(45, 3, 20), page(40, 2, 20), page(0, 1, 20)]).toEqual([true, true, false, false, false])
  })
})

describe('mapModel and mapEnrichmentContext', () => {
  it('maps the documented model with its dependencies', () => {
    expect(mapModel(modelSchema.parse({
      id: 'vl_object_captioner_v00',
      name: 'VL-Object-Captioner',
      type: 'CAPTION_OBJECTS',
      status: 'Active',
      vendor: 'VL',
      description: 'Generates descriptive text summarizing detected objects and their interactions.',
      dependencies: ['OBJECT_DETECTION']
    }), ignore)).toEqual({
      id: 'vl_object_captioner_v00',
      name: 'VL-Object-Captioner',
      type: 'CAPTION_OBJECTS',
      status: 'ACTIVE',
      vendor: 'VL',
      description: 'Generates descriptive text summarizing detected objects and their interactions.',
      dependencies: ['OBJECT_DETECTION'],
      isActive: true
    })
  })

  it('maps null dependencies to an empty list and Coming Soon to inactive', () => {
    expect(mapModel(modelSchema.parse({ id: 'm', name: 'M', type: 'FACE_DETECTION', status: 'Coming Soon', vendor: 'Nvidia', description: null, dependencies: null }), ignore))
      .toMatchObject({ status: 'COMING_SOON', isActive: false, dependencies: [] })
  })

  it('lists applied enrichments sorted by type, each knowing its dataset', () => {
    const context = enrichmentContextSchema.parse({
      enrichment_context_id: '3666cf3e-af2b-4c6b-b617-c796520de8fd',
      status: 'COMPLETED',
      dataset_enrichment_models: { enrichment_models: { OBJECT_DETECTION: 'vl_object_detector_v00', CAPTION_IMAGES: 'vl_image_captioner_v00' } }
    })
    expect(mapEnrichmentContext('d1', context)).toEqual({
      id: '3666cf3e-af2b-4c6b-b617-c796520de8fd',
      status: 'COMPLETED',
      applied: [
        { type: 'CAPTION_IMAGES', modelId: 'vl_image_captioner_v00', datasetId: 'd1' },
        { type: 'OBJECT_DETECTION', modelId: 'vl_object_detector_v00', datasetId: 'd1' }
      ]
    })
  })

  it('maps the documented empty context (status NEW)', () => {
    const context = enrichmentContextSchema.parse({ enrichment_context_id: '3666cf3e-af2b-4c6b-b617-c796520de8fd', status: 'NEW', dataset_enrichment_models: { enrichment_models: {} } })
    expect(mapEnrichmentContext('d1', context)).toEqual({ id: '3666cf3e-af2b-4c6b-b617-c796520de8fd', status: 'NEW', applied: [] })
  })
})

describe('one mapping per parsed record', () => {
  it('gives the requests that share a parsed record one mapped object, and the same answer as a fresh parse', () => {
    const record = taskSchema.parse(documentedTask)
    const first = mapTask(record, ignore)
    expect(mapTask(record, ignore)).toBe(first)
    // Another upstream answer with the same values is the same checked record (src/upstream/checked.ts), so the same mapping.
    expect(mapTask(taskSchema.parse({ ...documentedTask }), ignore)).toBe(first)
    // One with a value of its own is mapped anew.
    const changed = mapTask(taskSchema.parse({ ...documentedTask, status_message: 'another' }), ignore)
    expect(changed).not.toBe(first)
    expect(changed).toEqual({ ...first, statusMessage: 'another' })
    const dataset = datasetSchema.parse(documentedDataset)
    expect(mapDataset(dataset, ignore)).toBe(mapDataset(dataset, ignore))
  })

  it('maps a record holding an unknown value for each request, so that each request reports it', () => {
    const record = taskSchema.parse({ ...documentedTask, status: 'PAUSED' })
    const reported: string[][] = []
    const report = (kind: string, value: string): void => { reported.push([kind, value]) }
    const first = mapTask(record, report)
    const second = mapTask(record, report)
    expect(second).not.toBe(first)
    expect(second).toEqual(first)
    expect(first.status).toBe('UNKNOWN')
    expect(reported).toEqual([['task status', 'PAUSED'], ['task status', 'PAUSED']])
  })
})
