import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'

let gw: TestGateway
beforeAll(async () => { gw = await startTestGateway({ UPSTREAM_TIMEOUT_MS: '1000' }) })
afterAll(async () => { await gw.close() })
beforeEach(() => { gw.emulator.reset() })

const upstreamCalls = (): string[] => gw.emulator.calls().map((call) => `${call.method} ${call.path} ${call.status}`)

describe('Query.datasets', () => {
  it('lists every dataset the service account can see, newest first, in one upstream call', async () => {
    const res = await gw.gql('{ datasets { id displayName status progress isReady createdAt errorMessage } }')
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      data: {
        datasets: [
          { id: SEED.datasets.indexing, displayName: 'Drone Survey March', status: 'INDEXING', progress: 14, isReady: false, createdAt: '2026-03-02T11:59:50.961Z', errorMessage: null },
          { id: SEED.datasets.draft, displayName: 'Customer Uploads April', status: 'DRAFT', progress: 0, isReady: false, createdAt: '2026-03-02T11:59:30.661Z', errorMessage: null },
          { id: SEED.datasets.error, displayName: 'Medical Scans Batch 7', status: 'ERROR', progress: 37, isReady: false, createdAt: '2026-02-27T06:50:16.198Z', errorMessage: expect.any(String) },
          { id: SEED.datasets.aborted, displayName: 'Holiday Campaign 2025', status: 'ERROR', progress: 35, isReady: false, createdAt: '2026-02-24T09:08:52.483Z', errorMessage: 'Dataset creation was aborted' },
          { id: SEED.datasets.readOnly, displayName: 'Warehouse Inspection', status: 'READ_ONLY', progress: 100, isReady: false, createdAt: '2026-02-16T05:57:09.150Z', errorMessage: null },
          { id: SEED.datasets.enriched, displayName: 'Retail Shelf Photos (enriched)', status: 'READY', progress: 100, isReady: true, createdAt: '2026-02-09T04:14:30.782Z', errorMessage: null },
          { id: SEED.datasets.partialIndex, displayName: 'Street Scenes 2025', status: 'PARTIAL_INDEX', progress: 100, isReady: false, createdAt: '2026-02-06T10:52:41.175Z', errorMessage: null },
          { id: SEED.datasets.enrichedSource, displayName: 'Retail Shelf Photos', status: 'READY', progress: 100, isReady: true, createdAt: '2026-02-02T06:26:48.514Z', errorMessage: null },
          { id: SEED.datasets.readySecond, displayName: 'Training Set v2', status: 'READY', progress: 100, isReady: true, createdAt: '2026-01-26T09:41:20.258Z', errorMessage: null },
          { id: SEED.datasets.ready, displayName: 'Product Images Q1', status: 'READY', progress: 100, isReady: true, createdAt: '2026-01-20T08:47:55.439Z', errorMessage: null }
        ]
      }
    })
    expect(upstreamCalls()).toEqual(['GET /api/v1/datasets 200'])
  })

  it('resolves sourceDataset from the list it already has, without another upstream call', async () => {
    const res = await gw.gql('{ datasets { id sourceDataset { id displayName } } }')
    const enriched = (res.body.data as { datasets: Array<{ id: string, sourceDataset: unknown }> }).datasets.find((d) => d.id === SEED.datasets.enriched)
    expect(enriched).toEqual({ id: SEED.datasets.enriched, sourceDataset: { id: SEED.datasets.enrichedSource, displayName: 'Retail Shelf Photos' } })
    expect(upstreamCalls()).toEqual(['GET /api/v1/datasets 200'])
  })

  it('shows the clock moving: the indexing dataset becomes READY', async () => {
    gw.emulator.advance(60_000)
    const res = await gw.gql(`{ dataset(id: "${SEED.datasets.indexing}") { status progress isReady } }`)
    expect(res.body).toEqual({ data: { dataset: { status: 'READY', progress: 100, isReady: true } } })
  })
})

describe('Query.dataset', () => {
  it('answers one dataset with its nested fields', async () => {
    const res = await gw.gql(`{
      dataset(id: "${SEED.datasets.enriched}") {
        id displayName description sourceType ownedBy createdAt status progress imageCount videoCount objectCount errorMessage isReady
        sourceDataset { id displayName status }
        creationStatus { status progress }
        enrichment { status applied { type modelId model { name isActive } } }
        models(onlyActive: true) { id name type status vendor dependencies isActive }
      }
    }`)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      data: {
        dataset: {
          id: SEED.datasets.enriched,
          displayName: 'Retail Shelf Photos (enriched)',
          description: expect.any(String),
          sourceType: expect.any(String),
          ownedBy: expect.any(String),
          createdAt: '2026-02-09T04:14:30.782Z',
          status: 'READY',
          progress: 100,
          imageCount: 2260,
          videoCount: 0,
          objectCount: 18934,
          errorMessage: null,
          isReady: true,
          sourceDataset: { id: SEED.datasets.enrichedSource, displayName: 'Retail Shelf Photos', status: 'READY' },
          creationStatus: { status: 'READY', progress: 100 },
          enrichment: {
            status: 'COMPLETED',
            applied: [
              { type: 'CAPTION_IMAGES', modelId: 'vl_image_captioner_v00', model: { name: 'VL-Image-Captioner', isActive: true } },
              { type: 'OBJECT_DETECTION', modelId: 'vl_object_detector_v00', model: { name: 'VL-Object-Detector', isActive: true } }
            ]
          },
          models: [
            { id: 'vl_image_captioner_v00', name: 'VL-Image-Captioner', type: 'CAPTION_IMAGES', status: 'ACTIVE', vendor: 'VL', dependencies: [], isActive: true },
            { id: 'vl_object_detector_v00', name: 'VL-Object-Detector', type: 'OBJECT_DETECTION', status: 'ACTIVE', vendor: 'VL', dependencies: [], isActive: true },
            { id: 'vl_object_captioner_v00', name: 'VL-Object-Captioner', type: 'CAPTION_OBJECTS', status: 'ACTIVE', vendor: 'VL', dependencies: ['OBJECT_DETECTION'], isActive: true }
          ]
        }
      }
    })
    // Each upstream read once: list_models serves both `models` and `applied.model`.
    expect(upstreamCalls().sort()).toEqual([
      `GET /api/v1/dataset/${SEED.datasets.enrichedSource} 200`,
      `GET /api/v1/dataset/${SEED.datasets.enriched} 200`,
      `GET /api/v1/datasets/${SEED.datasets.enriched}/creation-status 200`,
      `GET /api/v1/enrichment/${SEED.datasets.enriched}/context 200`,
      `GET /api/v1/enrichment/${SEED.datasets.enriched}/list_models 200`
    ])
  })

  it('is null, without an error, for a dataset that does not exist or belongs to another account', async () => {
    const res = await gw.gql(`{ missing: dataset(id: "00000000-0000-4000-8000-000000000000") { id } foreign: dataset(id: "${SEED.datasets.secondaryAccount}") { id } }`)
    expect(res.body).toEqual({ data: { missing: null, foreign: null } })
    expect(upstreamCalls().sort()).toEqual([
      'GET /api/v1/dataset/00000000-0000-4000-8000-000000000000 404',
      `GET /api/v1/dataset/${SEED.datasets.secondaryAccount} 404`
    ])
  })

  it('refuses a malformed id with BAD_USER_INPUT before any upstream call', async () => {
    const res = await gw.gql('{ dataset(id: "../datasets") { id } }', undefined, { 'x-request-id': 'req-bad-id' })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      data: { dataset: null },
      errors: [{
        message: 'Argument id must be a Visual Layer id (a UUID such as ad48d250-1232-11f1-bfca-fa39f6ed1f22); got "../datasets".',
        locations: [{ line: 1, column: 3 }],
        path: ['dataset'],
        extensions: { code: 'BAD_USER_INPUT', requestId: 'req-bad-id' }
      }]
    })
    expect(upstreamCalls()).toEqual([])
  })

  it('reports a syntax error as QUERY_REJECTED with status 400 and no upstream call', async () => {
    const res = await gw.gql('{ dataset(id: ', undefined, { 'x-request-id': 'req-syntax' })
    expect(res.status).toBe(400)
    expect(res.body).toEqual({
      data: null,
      errors: [{ message: 'Syntax Error: Unexpected <EOF>.', locations: [{ line: 1, column: 15 }], extensions: { code: 'QUERY_REJECTED', requestId: 'req-syntax' } }]
    })
    expect(upstreamCalls()).toEqual([])
  })
})

describe('upstream failures', () => {
  const query = `{ dataset(id: "${SEED.datasets.ready}") { id displayName } datasets { id } }`

  it('keeps the rest of the response when one field fails (500 becomes UPSTREAM_ERROR with the status)', async () => {
    gw.emulator.injectFault({ path: `/api/v1/dataset/${SEED.datasets.ready}`, status: 500, body: { detail: 'Traceback: secret internals at db.internal:5432' } })
    const res = await gw.gql(query, undefined, { 'x-request-id': 'req-500' })
    expect(res.status).toBe(200)
    expect(res.body.data).toEqual({ dataset: null, datasets: expect.any(Array) })
    expect(res.body.errors).toEqual([{
      message: `Visual Layer failed (HTTP 500) while handling dataset ${SEED.datasets.ready}; try again, and contact Visual Layer support if it persists.`,
      locations: [{ line: 1, column: 3 }],
      path: ['dataset'],
      extensions: { code: 'UPSTREAM_ERROR', requestId: 'req-500', upstream: { status: 500 } }
    }])
    expect(JSON.stringify(res.body)).not.toContain('db.internal')
    expect(JSON.stringify(res.body)).not.toContain(gw.emulator.url)
  })

  it.each([
    ['503', { status: 503, body: { detail: 'maintenance' } }, 'UPSTREAM_UNAVAILABLE', `Visual Layer is unavailable (HTTP 503) while reading dataset ${SEED.datasets.ready}; try again shortly.`, { status: 503 }],
    ['a proxy 502 page that is not JSON', { status: 502, body: '<html><body>Bad Gateway</body></html>' }, 'UPSTREAM_UNAVAILABLE', `Visual Layer is unavailable (HTTP 502) while reading dataset ${SEED.datasets.ready}; try again shortly.`, { status: 502 }],
    ['a dropped connection', { drop: true }, 'UPSTREAM_UNAVAILABLE', `Visual Layer could not be reached for dataset ${SEED.datasets.ready}. Try again shortly.`, undefined],
    ['an answer slower than the deadline', { delayMs: 3000 }, 'UPSTREAM_TIMEOUT', `Visual Layer did not answer in time for dataset ${SEED.datasets.ready}. Try again shortly.`, undefined],
    ['a record without its id', { status: 200, body: { display_name: 'No id' } }, 'UPSTREAM_CONTRACT', `Visual Layer answered with data its documentation does not allow for dataset ${SEED.datasets.ready}; the gateway cannot use it. This is logged for the operators.`, undefined]
  ])('turns %s into %s', async (_name, fault, code, message, upstream) => {
    gw.emulator.injectFault({ path: `/api/v1/dataset/${SEED.datasets.ready}`, ...fault })
    const res = await gw.gql(`{ dataset(id: "${SEED.datasets.ready}") { id } }`, undefined, { 'x-request-id': 'req-fault' })
    expect(res.body).toEqual({
      data: { dataset: null },
      errors: [{ message, locations: [{ line: 1, column: 3 }], path: ['dataset'], extensions: { code, requestId: 'req-fault', ...(upstream === undefined ? {} : { upstream }) } }]
    })
  })

  it('fails only the fields a broken upstream field feeds, at their own paths, and logs the detail', async () => {
    const record = { id: SEED.datasets.ready, display_name: 'Product Images Q1', status_new: 'READY', description: 42, n_images: 'many' }
    gw.emulator.injectFault({ path: `/api/v1/dataset/${SEED.datasets.ready}`, status: 200, body: record, times: 2 })
    const nullable = await gw.gql(`{ dataset(id: "${SEED.datasets.ready}") { id displayName status description } }`, undefined, { 'x-request-id': 'req-field' })
    expect(nullable.body).toEqual({
      data: { dataset: { id: SEED.datasets.ready, displayName: 'Product Images Q1', status: 'READY', description: null } },
      errors: [{
        message: `Visual Layer sent an invalid description for dataset ${SEED.datasets.ready}, so description cannot be shown. This is logged for the operators.`,
        locations: [{ line: 1, column: 79 }],
        path: ['dataset', 'description'],
        extensions: { code: 'UPSTREAM_CONTRACT', requestId: 'req-field' }
      }]
    })
    // A non-null field takes its nearest nullable parent with it, as GraphQL requires; root siblings stay.
    const nonNull = await gw.gql(`{ dataset(id: "${SEED.datasets.ready}") { id imageCount } datasets { id } }`, undefined, { 'x-request-id': 'req-field-2' })
    expect(nonNull.body.data).toEqual({ dataset: null, datasets: expect.any(Array) })
    expect(nonNull.body.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['dataset', 'imageCount'], 'UPSTREAM_CONTRACT']])
    const logged = gw.logs.entries().find((e) => e.requestId === 'req-field' && e.code === 'UPSTREAM_CONTRACT')
    expect(logged?.detail).toEqual({ field: 'description', issues: [expect.objectContaining({ path: ['description'], code: 'invalid_type' })] })
    expect(JSON.stringify(nullable.body)).not.toContain('invalid_type')
  })
})

describe('model list cache', () => {
  let cached: TestGateway
  beforeAll(async () => { cached = await startTestGateway({ MODEL_CACHE_TTL_MS: '60000' }) })
  afterAll(async () => { await cached.close() })

  it('reuses a dataset\'s model list across requests within the TTL, and never caches the dataset itself', async () => {
    const query = `{ dataset(id: "${SEED.datasets.ready}") { status models { id } } }`
    const first = await cached.gql(query)
    cached.emulator.advance(1000)
    const second = await cached.gql(query)
    expect(second.body).toEqual(first.body)
    expect(cached.emulator.calls().map((c) => c.path)).toEqual([
      `/api/v1/dataset/${SEED.datasets.ready}`,
      `/api/v1/enrichment/${SEED.datasets.ready}/list_models`,
      `/api/v1/dataset/${SEED.datasets.ready}`
    ])
  })
})

describe('values Visual Layer adds later', () => {
  let fresh: TestGateway
  beforeAll(async () => { fresh = await startTestGateway() })
  afterAll(async () => { await fresh.close() })

  it('shows an unknown or legacy status as UNKNOWN, never failing, and logs each value once', async () => {
    const record = { id: SEED.datasets.ready, display_name: 'Product Images Q1', status: 'ARCHIVED', progress: 100 }
    fresh.emulator.injectFault({ path: `/api/v1/dataset/${SEED.datasets.ready}`, status: 200, body: record, times: 3 })
    for (let i = 0; i < 3; i++) {
      const res = await fresh.gql(`{ dataset(id: "${SEED.datasets.ready}") { status isReady } }`)
      expect(res.body).toEqual({ data: { dataset: { status: 'UNKNOWN', isReady: false } } })
    }
    const warnings = fresh.logs.entries().filter((e) => e.kind === 'dataset status')
    expect(warnings.map((e) => [e.level, e.value, e.msg])).toEqual([[40, 'ARCHIVED', 'Visual Layer sent a dataset status this gateway does not know; it is shown as UNKNOWN']])
  })
})

describe('document limits', () => {
  let limited: TestGateway
  beforeAll(async () => { limited = await startTestGateway({ MAX_QUERY_FIELDS: '20', MAX_QUERY_DEPTH: '4', MAX_QUERY_ALIASES: '100' }) })
  afterAll(async () => { await limited.close() })

  it('refuses a flood of aliases with QUERY_REJECTED and no upstream call', async () => {
    const aliases = Array.from({ length: 21 }, (_, i) => `a${i}: dataset(id: "${SEED.datasets.ready}") { __typename }`).join(' ')
    const res = await limited.gql(`{ ${aliases} }`, undefined, { 'x-request-id': 'req-flood' })
    expect(res.status).toBe(400)
    expect(res.body).toEqual({
      data: null,
      errors: [{ message: 'The document selects more than 20 fields, the most this gateway accepts. Split it into several requests.', locations: [{ line: 1, column: 1 }], extensions: { code: 'QUERY_REJECTED', requestId: 'req-flood' } }]
    })
    expect(limited.emulator.calls()).toEqual([])
  })

  it('counts fields in fragments where they are spread, and refuses a document nested too deep', async () => {
    const fragment = `fragment f on Dataset { ${Array.from({ length: 11 }, () => 'id').join(' ')} }`
    const twice = await limited.gql(`{ a: dataset(id: "${SEED.datasets.ready}") { ...f } b: dataset(id: "${SEED.datasets.ready}") { ...f } } ${fragment}`)
    expect(twice.body.errors?.map((e) => e.extensions?.code)).toEqual(['QUERY_REJECTED'])
    const deep = await limited.gql('{ datasets { sourceDataset { sourceDataset { sourceDataset { id } } } } }')
    expect(deep.body.errors?.map((e) => e.message)).toEqual(['The document nests fields more than 4 levels deep, the most this gateway accepts. Split it into several requests.'])
    const fine = await limited.gql(`{ dataset(id: "${SEED.datasets.ready}") { ...f } } ${fragment}`)
    expect(fine.body.errors).toBeUndefined()
    expect(limited.emulator.calls().length).toBe(1)
  })
})

describe('subscriptions over HTTP', () => {
  let plain: TestGateway
  beforeAll(async () => { plain = await startTestGateway() })
  afterAll(async () => { await plain.close() })

  it('are refused with QUERY_REJECTED saying where subscriptions run, with no upstream call', async () => {
    const res = await plain.gql(`subscription { datasetStatusChanged(datasetId: "${SEED.datasets.ready}") { id } }`, undefined, { 'x-request-id': 'req-sub' })
    expect([res.status, res.body]).toEqual([400, {
      data: null,
      errors: [{
        message: 'Subscriptions run over WebSocket at this same /graphql path (the graphql-ws client), or over Server-Sent Events at /graphql/stream (the graphql-sse client); a plain HTTP request answers only queries and mutations.',
        locations: [{ line: 1, column: 1 }],
        extensions: { code: 'QUERY_REJECTED', requestId: 'req-sub' }
      }]
    }])
    expect(plain.emulator.calls()).toEqual([])
  })
})
