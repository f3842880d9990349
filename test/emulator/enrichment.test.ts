import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ENRICHMENT_MODELS, SEED } from '../../src/emulator/index.js'
import type { RunningEmulator } from '../../src/emulator/index.js'
import { call, SECOND, SECONDARY, signToken, startTestEmulator } from './helpers.js'

let emulator: RunningEmulator
beforeAll(async () => { emulator = await startTestEmulator() })
afterAll(async () => { await emulator.close() })
beforeEach(() => { emulator.reset() })

const enrich = (datasetId: string, body: unknown, token?: string) =>
  call(emulator, `/api/v1/dataset/${datasetId}/enrich_dataset`, { method: 'POST', body, token })

describe('GET /api/v1/enrichment/{dataset_id}/list_models', () => {
  it('lists the documented models verbatim plus a Coming Soon one', async () => {
    const answer = await call(emulator, `/api/v1/enrichment/${SEED.datasets.ready}/list_models`)
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual([
      { id: 'vl_image_captioner_v00', name: 'VL-Image-Captioner', type: 'CAPTION_IMAGES', status: 'Active', vendor: 'VL', description: 'Image captioning generates descriptive text that summarizes the content and context of the entire image input.', dependencies: null },
      { id: 'vl_object_detector_v00', name: 'VL-Object-Detector', type: 'OBJECT_DETECTION', status: 'Active', vendor: 'VL', description: 'Identifies and locates objects within images or videos by drawing bounding boxes and classifying each detected object.', dependencies: null },
      { id: 'vl_object_captioner_v00', name: 'VL-Object-Captioner', type: 'CAPTION_OBJECTS', status: 'Active', vendor: 'VL', description: 'Generates descriptive text summarizing detected objects and their interactions.', dependencies: ['OBJECT_DETECTION'] },
      { id: 'nvidia_face_detector_v00', name: 'NV-Face-Detector', type: 'FACE_DETECTION', status: 'Coming Soon', vendor: 'Nvidia', description: 'Detects human faces in images and video frames and marks each with a bounding box.', dependencies: null }
    ])
    expect(answer.body).toEqual(ENRICHMENT_MODELS)
  })

  it('answers 404 for another account\'s dataset', async () => {
    expect(await call(emulator, `/api/v1/enrichment/${SEED.datasets.secondaryAccount}/list_models`)).toMatchObject({ status: 404, body: { detail: 'Dataset not found' } })
  })
})

describe('GET /api/v1/enrichment/{dataset_id}/context', () => {
  it('is NEW with no models for a dataset never enriched', async () => {
    const answer = await call(emulator, `/api/v1/enrichment/${SEED.datasets.ready}/context`)
    expect(answer.body).toEqual({ enrichment_context_id: SEED.enrichmentContexts.ready, status: 'NEW', dataset_enrichment_models: { enrichment_models: {} } })
  })

  it('shows the applied models of the seeded enriched copy', async () => {
    const answer = await call(emulator, `/api/v1/enrichment/${SEED.datasets.enriched}/context`)
    expect(answer.body).toEqual({
      enrichment_context_id: SEED.enrichmentContexts.enriched,
      status: 'COMPLETED',
      dataset_enrichment_models: { enrichment_models: { CAPTION_IMAGES: 'vl_image_captioner_v00', OBJECT_DETECTION: 'vl_object_detector_v00' } }
    })
  })

  it('answers 404 for another account\'s dataset and 422 for a malformed id', async () => {
    expect((await call(emulator, `/api/v1/enrichment/${SEED.datasets.ready}/context`, { token: signToken({ account: SECONDARY }) })).status).toBe(404)
    expect((await call(emulator, '/api/v1/enrichment/xyz/context')).status).toBe(422)
  })
})

describe('POST /api/v1/dataset/{dataset_id}/enrich_dataset', () => {
  it('builds a copy while the source is READ ONLY, then both are READY and the task COMPLETED', async () => {
    const answer = await enrich(SEED.datasets.ready, { enrichment_models: { CAPTION_IMAGES: 'vl_image_captioner_v00', OBJECT_DETECTION: 'vl_object_detector_v00' } })
    expect(answer.status).toBe(200)
    const copyId = (answer.body as { dataset_id: string }).dataset_id
    expect(Object.keys(answer.body as object)).toEqual(['dataset_id'])
    expect(copyId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)

    const copy = await call(emulator, `/api/v1/dataset/${copyId}`)
    expect(copy.body).toEqual({
      id: copyId,
      display_name: 'Product Images Q1 (enriched)',
      description: 'Catalog photos for the Q1 product launch',
      source_type: 'BUCKET',
      owned_by: 'VL',
      created_at: expect.stringMatching(/^2026-03-02T12:00:00\.000\d{3}$/),
      status_new: 'DRAFT',
      progress: 0,
      n_images: 4812,
      n_videos: 0,
      n_objects: 17804,
      fatal_error_msg: null,
      source_dataset_id: SEED.datasets.ready
    })
    expect((await call(emulator, `/api/v1/dataset/${SEED.datasets.ready}`)).body).toMatchObject({ status_new: 'READ ONLY', progress: 100 })
    const context = await call(emulator, `/api/v1/enrichment/${copyId}/context`)
    expect(context.body).toMatchObject({ status: 'IN_PROGRESS', dataset_enrichment_models: { enrichment_models: { CAPTION_IMAGES: 'vl_image_captioner_v00', OBJECT_DETECTION: 'vl_object_detector_v00' } } })

    // The ENRICHMENT task runs on the source dataset.
    const tasks = await call(emulator, `/api/v1/tasks?dataset_id=${SEED.datasets.ready}&task_type=ENRICHMENT`)
    const [task] = (tasks.body as { tasks: Array<Record<string, unknown>> }).tasks
    expect(task).toMatchObject({
      dataset_id: SEED.datasets.ready,
      dataset_name: 'Product Images Q1',
      dataset_status: 'READ_ONLY',
      created_by: 'rachel@acme.example',
      task_type: 'ENRICHMENT',
      status: 'INITIALIZING',
      progress_percentage: 0,
      error_message: null,
      start_time: '2026-03-02T12:00:00Z',
      end_time: null
    })

    emulator.advance(5 * SECOND + 12_500)
    expect((await call(emulator, `/api/v1/dataset/${copyId}`)).body).toMatchObject({ status_new: 'INDEXING', progress: 50 })
    expect((await call(emulator, `/api/v1/dataset/${SEED.datasets.ready}`)).body).toMatchObject({ status_new: 'READ ONLY' })

    emulator.advance(12_500)
    expect((await call(emulator, `/api/v1/dataset/${copyId}`)).body).toMatchObject({ status_new: 'READY', progress: 100 })
    expect((await call(emulator, `/api/v1/dataset/${SEED.datasets.ready}`)).body).toMatchObject({ status_new: 'READY' })
    expect((await call(emulator, `/api/v1/enrichment/${copyId}/context`)).body).toMatchObject({ status: 'COMPLETED' })
    const done = await call(emulator, `/api/v1/tasks?dataset_id=${SEED.datasets.ready}&task_type=ENRICHMENT`)
    expect((done.body as { tasks: unknown[] }).tasks[0]).toMatchObject({
      status: 'COMPLETED', status_message: 'Enrichment completed', progress_percentage: 100, dataset_status: 'READY', end_time: '2026-03-02T12:00:30Z'
    })
    const list = await call(emulator, '/api/v1/datasets')
    expect((list.body as Array<{ id: string }>)[0]?.id).toBe(copyId)
  })

  it('accepts a dependency already applied to the dataset and keeps the applied models in the copy', async () => {
    const answer = await enrich(SEED.datasets.enriched, { enrichment_models: { CAPTION_OBJECTS: 'vl_object_captioner_v00' } })
    expect(answer.status).toBe(200)
    const copyId = (answer.body as { dataset_id: string }).dataset_id
    expect((await call(emulator, `/api/v1/enrichment/${copyId}/context`)).body).toMatchObject({
      dataset_enrichment_models: { enrichment_models: { CAPTION_IMAGES: 'vl_image_captioner_v00', OBJECT_DETECTION: 'vl_object_detector_v00', CAPTION_OBJECTS: 'vl_object_captioner_v00' } }
    })
    expect((await call(emulator, `/api/v1/dataset/${copyId}`)).body).toMatchObject({ display_name: 'Retail Shelf Photos (enriched) (enriched)', n_objects: 18934 })
  })

  it('answers 400 naming the problem for bad model choices', async () => {
    const cases: Array<[unknown, string]> = [
      [{}, 'enrichment_models is empty: name at least one model as {"<enrichment type>": "<model id>"}; see list_models'],
      [{ CAPTION_IMAGES: 'vl_magic_v99' }, "Unknown enrichment model 'vl_magic_v99'; see list_models for the available ids"],
      [{ OBJECT_DETECTION: 'vl_image_captioner_v00' }, "Model 'vl_image_captioner_v00' is a CAPTION_IMAGES model and cannot be applied as OBJECT_DETECTION"],
      [{ FACE_DETECTION: 'nvidia_face_detector_v00' }, "Model 'nvidia_face_detector_v00' is Coming Soon and cannot be applied yet; choose an Active model"],
      [{ CAPTION_OBJECTS: 'vl_object_captioner_v00' }, "Model 'vl_object_captioner_v00' (CAPTION_OBJECTS) depends on OBJECT_DETECTION: include a OBJECT_DETECTION model in this request or apply one first"]
    ]
    for (const [models, detail] of cases) {
      expect(await enrich(SEED.datasets.ready, { enrichment_models: models })).toMatchObject({ status: 400, body: { detail } })
    }
    expect((await enrich(SEED.datasets.ready, { enrichment_models: { OBJECT_DETECTION: 'vl_object_detector_v00', CAPTION_OBJECTS: 'vl_object_captioner_v00' } })).status).toBe(200)
  })

  it('answers 409 naming the status when the dataset is not READY', async () => {
    const body = { enrichment_models: { CAPTION_IMAGES: 'vl_image_captioner_v00' } }
    const expected: Array<[string, string]> = [
      [SEED.datasets.readOnly, 'READ ONLY'], [SEED.datasets.partialIndex, 'PARTIAL INDEX'], [SEED.datasets.indexing, 'INDEXING'],
      [SEED.datasets.draft, 'DRAFT'], [SEED.datasets.error, 'ERROR']
    ]
    for (const [id, status] of expected) {
      expect(await enrich(id, body)).toMatchObject({ status: 409, body: { detail: `Dataset is not READY (status: ${status}); enrichment needs a READY dataset` } })
    }
  })

  it('answers 404 for a missing or foreign dataset', async () => {
    const body = { enrichment_models: { CAPTION_IMAGES: 'vl_image_captioner_v00' } }
    expect(await enrich(SEED.datasets.secondaryAccount, body)).toMatchObject({ status: 404, body: { detail: 'Dataset not found' } })
    expect(await enrich('00000000-0000-4000-8000-000000000000', body)).toMatchObject({ status: 404, body: { detail: 'Dataset not found' } })
  })

  it('answers 422 in FastAPI\'s list form for a bad body', async () => {
    const url = `/api/v1/dataset/${SEED.datasets.ready}/enrich_dataset`
    expect((await call(emulator, url, { method: 'POST' })).body).toEqual({
      detail: [{ type: 'missing', loc: ['body', 'enrichment_models'], msg: 'Field required', input: null }]
    })
    expect((await enrich(SEED.datasets.ready, { models: {} })).body).toEqual({
      detail: [{ type: 'missing', loc: ['body', 'enrichment_models'], msg: 'Field required', input: { models: {} } }]
    })
    expect((await enrich(SEED.datasets.ready, { enrichment_models: ['vl_image_captioner_v00'] })).body).toEqual({
      detail: [{ type: 'dict_type', loc: ['body', 'enrichment_models'], msg: 'Input should be a valid dictionary', input: ['vl_image_captioner_v00'] }]
    })
    expect((await enrich(SEED.datasets.ready, { enrichment_models: { CAPTION_IMAGES: 7 } })).body).toEqual({
      detail: [{ type: 'string_type', loc: ['body', 'enrichment_models', 'CAPTION_IMAGES'], msg: 'Input should be a valid string', input: 7 }]
    })
    const invalid = await call(emulator, url, { method: 'POST', rawBody: '{"enrichment_models": ' })
    expect(invalid.status).toBe(422)
    expect(invalid.body).toEqual({ detail: [{ type: 'json_invalid', loc: ['body', 22], msg: 'JSON decode error', input: {}, ctx: { error: 'Expecting value' } }] })
    const both = await call(emulator, '/api/v1/dataset/nope/enrich_dataset', { method: 'POST', body: [] })
    expect((both.body as { detail: Array<{ type: string }> }).detail.map((item) => item.type)).toEqual(['uuid_parsing', 'model_attributes_type'])
  })
})
