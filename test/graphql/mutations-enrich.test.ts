import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { when } from '../helpers/wait.js'

/**
 * Mutation.enrichDataset against the emulator: the pre-flight (every refusal costs no
 * enrich_dataset call), one POST never retried, and a payload read after the write.
 */

let gw: TestGateway
// Short enough for the case that waits it out, long enough for every other call on a busy machine.
beforeAll(async () => { gw = await startTestGateway({ UPSTREAM_TIMEOUT_MS: '2000' }) })
afterAll(async () => { await gw.close() })
beforeEach(() => { gw.emulator.reset() })

const ENRICH = `mutation ($datasetId: ID!, $models: [EnrichmentModelInput!]!) {
  enrichDataset(datasetId: $datasetId, models: $models) {
    enrichedDatasetId
    enrichedDataset { id displayName status progress sourceDataset { id status } }
    sourceDataset { id displayName status }
  }
}`
const ID_ONLY = 'mutation ($datasetId: ID!, $models: [EnrichmentModelInput!]!) { enrichDataset(datasetId: $datasetId, models: $models) { enrichedDatasetId } }'

const captioner = { type: 'CAPTION_IMAGES', modelId: SEED.models.imageCaptioner }
const detector = { type: 'OBJECT_DETECTION', modelId: SEED.models.objectDetector }
const objectCaptioner = { type: 'CAPTION_OBJECTS', modelId: SEED.models.objectCaptioner }
const faceDetector = { type: 'FACE_DETECTION', modelId: SEED.models.faceDetector }

const upstreamCalls = (): string[] => gw.emulator.calls().map((call) => `${call.method} ${call.path} ${call.status}`)
const enrichCalls = (): number => gw.emulator.calls({ method: 'POST', path: '/api/v1/dataset/*/enrich_dataset' }).length
const ready = SEED.datasets.ready
const datasetGet = (id: string): string => `GET /api/v1/dataset/${id} 200`
const modelsGet = (id: string): string => `GET /api/v1/enrichment/${id}/list_models 200`
const contextGet = (id: string): string => `GET /api/v1/enrichment/${id}/context 200`
const enrichPost = (id: string, status = 200): string => `POST /api/v1/dataset/${id}/enrich_dataset ${status}`

function refused (code: string, message: string, requestId: string, upstream?: { status: number }): unknown {
  return {
    data: null,
    errors: [{ message, locations: [{ line: 2, column: 3 }], path: ['enrichDataset'], extensions: { code, requestId, ...(upstream === undefined ? {} : { upstream }) } }]
  }
}

async function enrich (datasetId: string, models: unknown[], requestId = 'req-enrich', query = ENRICH): Promise<Awaited<ReturnType<TestGateway['gql']>>> {
  return await gw.gql(query, { datasetId, models }, { 'x-request-id': requestId })
}

describe('Mutation.enrichDataset: success', () => {
  it('starts an enrichment with one POST and answers the copy and its source as they are after the write', async () => {
    const res = await enrich(ready, [captioner, detector])
    const copy = (res.body.data as { enrichDataset: { enrichedDatasetId: string } } | null)?.enrichDataset.enrichedDatasetId ?? ''
    expect(copy).toMatch(/^[0-9a-f-]{36}$/)
    expect(res.body).toEqual({
      data: {
        enrichDataset: {
          enrichedDatasetId: copy,
          enrichedDataset: { id: copy, displayName: 'Product Images Q1 (enriched)', status: 'DRAFT', progress: 0, sourceDataset: { id: ready, status: 'READ_ONLY' } },
          sourceDataset: { id: ready, displayName: 'Product Images Q1', status: 'READ_ONLY' }
        }
      }
    })
    // The pre-flight read the source READY; the payload reads it again after the write.
    expect(upstreamCalls()).toEqual([datasetGet(ready), modelsGet(ready), enrichPost(ready), datasetGet(copy), datasetGet(ready)])
    expect(gw.emulator.calls({ method: 'POST' })[0]).toMatchObject({ requestId: 'req-enrich' })
  })

  it('sends the models as Visual Layer documents them and fetches no dataset the caller did not select', async () => {
    const res = await enrich(ready, [detector, objectCaptioner], 'req-id-only', ID_ONLY)
    expect(res.body).toEqual({ data: { enrichDataset: { enrichedDatasetId: expect.stringMatching(/^[0-9a-f-]{36}$/) } } })
    // CAPTION_OBJECTS depends on OBJECT_DETECTION, which the same request brings: no context read.
    expect(upstreamCalls()).toEqual([datasetGet(ready), modelsGet(ready), enrichPost(ready)])
  })

  it('follows the copy to READY by moving the emulator clock, with its source and its applied models', async () => {
    const res = await enrich(ready, [detector], 'req-follow', ID_ONLY)
    const copy = (res.body.data as { enrichDataset: { enrichedDatasetId: string } }).enrichDataset.enrichedDatasetId
    const query = `{
      copy: dataset(id: "${copy}") { status progress isReady imageCount videoCount objectCount sourceDataset { id status } enrichment { status applied { type modelId model { name } } } }
      source: dataset(id: "${ready}") { status imageCount videoCount objectCount tasks(filter: {type: ENRICHMENT, status: RUNNING}) { total nodes { type status progress datasetId } } }
    }`
    gw.emulator.advance(15_000)
    const halfway = await gw.gql(query)
    expect(halfway.body).toEqual({
      data: {
        copy: {
          status: 'INDEXING',
          progress: 40,
          isReady: false,
          imageCount: 4812,
          videoCount: 0,
          objectCount: 17804,
          sourceDataset: { id: ready, status: 'READ_ONLY' },
          enrichment: { status: 'IN_PROGRESS', applied: [{ type: 'OBJECT_DETECTION', modelId: SEED.models.objectDetector, model: { name: 'VL-Object-Detector' } }] }
        },
        source: {
          status: 'READ_ONLY',
          imageCount: 4812,
          videoCount: 0,
          objectCount: 0,
          tasks: { total: 1, nodes: [{ type: 'ENRICHMENT', status: 'RUNNING', progress: 40, datasetId: ready }] }
        }
      }
    })
    gw.emulator.advance(15_000)
    const done = await gw.gql(query)
    expect(done.body).toEqual({
      data: {
        copy: {
          status: 'READY',
          progress: 100,
          isReady: true,
          imageCount: 4812,
          videoCount: 0,
          objectCount: 17804,
          sourceDataset: { id: ready, status: 'READY' },
          enrichment: { status: 'COMPLETED', applied: [{ type: 'OBJECT_DETECTION', modelId: SEED.models.objectDetector, model: { name: 'VL-Object-Detector' } }] }
        },
        source: { status: 'READY', imageCount: 4812, videoCount: 0, objectCount: 0, tasks: { total: 0, nodes: [] } }
      }
    })
  })

  it('accepts a dependency the dataset already has applied, reading its enrichment context once', async () => {
    const res = await enrich(SEED.datasets.enriched, [objectCaptioner], 'req-dep', ID_ONLY)
    expect(res.body).toEqual({ data: { enrichDataset: { enrichedDatasetId: expect.stringMatching(/^[0-9a-f-]{36}$/) } } })
    const copy = (res.body.data as { enrichDataset: { enrichedDatasetId: string } }).enrichDataset.enrichedDatasetId
    expect(upstreamCalls()).toEqual([datasetGet(SEED.datasets.enriched), modelsGet(SEED.datasets.enriched), contextGet(SEED.datasets.enriched), enrichPost(SEED.datasets.enriched)])
    const applied = await gw.gql(`{ dataset(id: "${copy}") { enrichment { applied { type modelId } } } }`)
    expect(applied.body).toEqual({
      data: {
        dataset: {
          enrichment: {
            applied: [
              { type: 'CAPTION_IMAGES', modelId: SEED.models.imageCaptioner },
              { type: 'CAPTION_OBJECTS', modelId: SEED.models.objectCaptioner },
              { type: 'OBJECT_DETECTION', modelId: SEED.models.objectDetector }
            ]
          }
        }
      }
    })
  })
})

describe('Mutation.enrichDataset: the pre-flight refuses without calling enrich_dataset', () => {
  const notEnriched = (id: string, count: string): string => `Dataset ${id} was not enriched, and nothing was sent to Visual Layer: the request has ${count}.`

  it('refuses a malformed dataset id and an empty model list before any upstream call, both at once', async () => {
    const res = await enrich('../datasets', [], 'req-local')
    expect(res.body).toEqual(refused('BAD_USER_INPUT', `${notEnriched('../datasets', '2 problems')} (1) Argument datasetId must be a Visual Layer id (a UUID such as ad48d250-1232-11f1-bfca-fa39f6ed1f22); got "../datasets". (2) Argument models is empty: name at least one model as {type, modelId}; Dataset.models lists the ones that can be applied.`, 'req-local'))
    expect(upstreamCalls()).toEqual([])
  })

  it('refuses an empty model list with no upstream call', async () => {
    const res = await enrich(ready, [], 'req-empty')
    expect(res.body).toEqual(refused('BAD_USER_INPUT', `${notEnriched(ready, 'one problem')} Argument models is empty: name at least one model as {type, modelId}; Dataset.models lists the ones that can be applied.`, 'req-empty'))
    expect(upstreamCalls()).toEqual([])
  })

  it.each([
    ['does not exist', '00000000-0000-4000-8000-000000000000'],
    ['belongs to another account', SEED.datasets.secondaryAccount]
  ])('answers NOT_FOUND for a dataset that %s, and stops there', async (_name, id) => {
    const res = await enrich(id, [captioner, { type: 'CAPTION_IMAGES', modelId: 'nope' }], 'req-missing')
    expect(res.body).toEqual(refused('NOT_FOUND', `Dataset ${id} does not exist, or you may not see it; nothing was sent to Visual Layer.`, 'req-missing'))
    expect(upstreamCalls()).toEqual([`GET /api/v1/dataset/${id} 404`])
  })

  it.each([
    ['readOnly', 'READ_ONLY'],
    ['partialIndex', 'PARTIAL_INDEX'],
    ['indexing', 'INDEXING'],
    ['draft', 'DRAFT'],
    ['error', 'ERROR']
  ] as const)('answers CONFLICT naming the status of a dataset that is not READY (%s)', async (key, status) => {
    const id = SEED.datasets[key]
    const res = await enrich(id, [captioner], 'req-state')
    expect(res.body).toEqual(refused('CONFLICT', `Dataset ${id} is ${status}, and only a READY dataset can be enriched; nothing was sent to Visual Layer. Wait until it is READY (subscribe to datasetStatusChanged) and try again.`, 'req-state'))
    expect(upstreamCalls()).toEqual([datasetGet(id)])
  })

  it.each([
    ['a model the dataset does not list', [{ type: 'CAPTION_IMAGES', modelId: 'vl_image_captioner_v99' }], 'models[0]: model "vl_image_captioner_v99" is not in this dataset\'s model list; Dataset.models lists the ones that can be applied.', []],
    ['a model given under another type', [{ type: 'CAPTION_IMAGES', modelId: SEED.models.objectDetector }], 'models[0]: model "vl_object_detector_v00" (VL-Object-Detector) produces OBJECT_DETECTION, not CAPTION_IMAGES: give it with type OBJECT_DETECTION.', []],
    ['a model that is not Active', [faceDetector], 'models[0]: model "nvidia_face_detector_v00" (NV-Face-Detector) is Coming Soon, and only Active models can be applied.', []],
    ['a type named twice', [captioner, { type: 'CAPTION_IMAGES', modelId: SEED.models.imageCaptioner }], 'models[0] and models[1] both give type CAPTION_IMAGES: name one model per enrichment type.', []],
    ['a dependency neither requested nor applied', [captioner, objectCaptioner], 'models[1]: model "vl_object_captioner_v00" (CAPTION_OBJECTS) depends on OBJECT_DETECTION, which is neither in this request nor applied to the dataset: add a OBJECT_DETECTION model to this request.', [contextGet(ready)]]
  ])('refuses %s with BAD_USER_INPUT naming the model and why', async (_name, models, problem, extra) => {
    const res = await enrich(ready, models, 'req-model')
    expect(res.body).toEqual(refused('BAD_USER_INPUT', `${notEnriched(ready, 'one problem')} ${problem}`, 'req-model'))
    expect(upstreamCalls()).toEqual([datasetGet(ready), modelsGet(ready), ...extra])
    expect(enrichCalls()).toBe(0)
  })

  it('reports every problem of a request at once, in one error', async () => {
    const res = await enrich(ready, [
      captioner,
      { type: 'CAPTION_IMAGES', modelId: 'mystery_model' },
      faceDetector,
      objectCaptioner,
      { type: 'SEGMENTATION', modelId: SEED.models.imageCaptioner }
    ], 'req-all')
    expect(res.body).toEqual(refused('BAD_USER_INPUT', [
      notEnriched(ready, '5 problems'),
      '(1) models[0] and models[1] both give type CAPTION_IMAGES: name one model per enrichment type.',
      '(2) models[1]: model "mystery_model" is not in this dataset\'s model list; Dataset.models lists the ones that can be applied.',
      '(3) models[2]: model "nvidia_face_detector_v00" (NV-Face-Detector) is Coming Soon, and only Active models can be applied.',
      '(4) models[4]: model "vl_image_captioner_v00" (VL-Image-Captioner) produces CAPTION_IMAGES, not SEGMENTATION: give it with type CAPTION_IMAGES.',
      '(5) models[3]: model "vl_object_captioner_v00" (CAPTION_OBJECTS) depends on OBJECT_DETECTION, which is neither in this request nor applied to the dataset: add a OBJECT_DETECTION model to this request.'
    ].join(' '), 'req-all'))
    expect(upstreamCalls()).toEqual([datasetGet(ready), modelsGet(ready), contextGet(ready)])
  })
})

describe('Mutation.enrichDataset: Visual Layer\'s answers to the POST', () => {
  it.each([
    ['409', { status: 409, body: { detail: 'Dataset is locked by another operation' } }, 'CONFLICT', `Dataset ${ready} cannot be enriched in its current state; Visual Layer says: Dataset is locked by another operation. Enrichment needs a READY dataset: check its status and try again when it is READY.`],
    ['400', { status: 400, body: { detail: 'Model quota exceeded for this organisation.' } }, 'BAD_USER_INPUT', `Visual Layer refused the enrichment request for dataset ${ready}; Visual Layer says: Model quota exceeded for this organisation. Dataset.models and Dataset.enrichment show what can be applied.`],
    ['422 in FastAPI\'s list form', { status: 422, body: { detail: [{ type: 'dict_type', loc: ['body', 'enrichment_models'], msg: 'Input should be a valid dictionary', input: null }] } }, 'BAD_USER_INPUT', `Visual Layer refused the enrichment request for dataset ${ready}; Visual Layer says: enrichment_models: Input should be a valid dictionary. Dataset.models and Dataset.enrichment show what can be applied.`],
    ['404', { status: 404, body: { detail: 'Dataset not found' } }, 'NOT_FOUND', `Dataset ${ready} does not exist, or you may not see it.`]
  ])('turns a %s into %s with Visual Layer\'s detail as a sentence', async (_name, fault, code, message) => {
    gw.emulator.injectFault({ method: 'POST', path: '/api/v1/dataset/*/enrich_dataset', ...fault })
    const res = await enrich(ready, [captioner], 'req-answer', ID_ONLY)
    expect(res.body).toEqual({ data: null, errors: [{ message, locations: [{ line: 1, column: 65 }], path: ['enrichDataset'], extensions: { code, requestId: 'req-answer', upstream: { status: fault.status } } }] })
    expect(upstreamCalls()).toEqual([datasetGet(ready), modelsGet(ready), enrichPost(ready, fault.status)])
  })

  const check = `Check the source dataset's enrichment tasks before trying again: { dataset(id: "${ready}") { status tasks(filter: {type: ENRICHMENT}) { nodes { id status startTime } } } } lists a task started just now if the enrichment is under way.`

  it.each([
    ['503', { status: 503 }, `Visual Layer answered HTTP 503 while starting the enrichment of dataset ${ready}, so whether an enriched copy is being built is unknown. ${check}`, { status: 503 }, 503],
    // Held past the deadline: the emulator drops a call whose client left while it was held (status 0); a real server may not.
    ['an answer slower than UPSTREAM_TIMEOUT_MS', { hold: 'slow' }, `Visual Layer did not answer in time while starting the enrichment of dataset ${ready}, so whether an enriched copy is being built is unknown. ${check}`, undefined, 0],
    ['a dropped connection', { drop: true }, `Visual Layer could not be reached or dropped the connection while starting the enrichment of dataset ${ready}, so whether an enriched copy is being built is unknown. ${check}`, undefined, 0]
  ])('sends the POST once on %s and says the outcome is unknown (UPSTREAM_UNAVAILABLE) and how to check', async (_name, fault, message, upstream, finalStatus) => {
    gw.emulator.injectFault({ method: 'POST', path: '/api/v1/dataset/*/enrich_dataset', ...fault })
    const res = await enrich(ready, [captioner], 'req-unknown', ID_ONLY)
    expect(res.body).toEqual({ data: null, errors: [{ message, locations: [{ line: 1, column: 65 }], path: ['enrichDataset'], extensions: { code: 'UPSTREAM_UNAVAILABLE', requestId: 'req-unknown', ...(upstream === undefined ? {} : { upstream }) } }] })
    expect(upstreamCalls()).toEqual([datasetGet(ready), modelsGet(ready), enrichPost(ready, finalStatus)])
    // The held call ends (dropped: its client left) before the next test resets the emulator.
    if ('hold' in fault) await when('the held call to be dropped', (listener) => gw.emulator.onHold(listener), () => gw.emulator.held(fault.hold) === 0)
  })
})
