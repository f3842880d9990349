import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { DEMO_ACCOUNTS, SEED } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { START_TIME_DESC, type TaskKey } from '../helpers/seed-order.js'
import { visualLayerToken } from '../helpers/tokens.js'

/**
 * How many upstream calls a GraphQL operation costs, counted in the emulator's call log: per-request
 * loaders fetch each thing once, identical reads in flight are shared within one credential scope
 * (and never across two), and one operation never runs more than UPSTREAM_BATCH_CONCURRENCY calls
 * at once.
 */

type DatasetKey = keyof typeof SEED.datasets

const NAMES: Record<DatasetKey, string> = {
  ready: 'Product Images Q1',
  readySecond: 'Training Set v2',
  enrichedSource: 'Retail Shelf Photos',
  enriched: 'Retail Shelf Photos (enriched)',
  readOnly: 'Warehouse Inspection',
  partialIndex: 'Street Scenes 2025',
  indexing: 'Drone Survey March',
  draft: 'Customer Uploads April',
  error: 'Medical Scans Batch 7',
  aborted: 'Holiday Campaign 2025',
  hidden: 'Archived: Legacy Catalog 2023',
  secondaryAccount: 'Assembly Line Cameras',
  secondaryReady: 'Robot Grasp Trials',
  secondaryError: 'Bin Picking Sim Renders'
}

const datasetOf = (task: TaskKey): DatasetKey =>
  (Object.keys(NAMES) as DatasetKey[]).filter((key) => task.startsWith(key)).sort((a, b) => b.length - a.length)[0] as DatasetKey

const ACME_DATASETS: readonly DatasetKey[] = ['ready', 'readySecond', 'enrichedSource', 'enriched', 'readOnly', 'partialIndex', 'indexing', 'draft', 'error', 'aborted', 'hidden']
/** The dataset list hides `hidden`. */
const LISTED_DATASETS: readonly DatasetKey[] = ACME_DATASETS.filter((key) => key !== 'hidden')

/** The scalar fields of `ready` (Product Images Q1) and `secondaryAccount` (Assembly Line Cameras) at the clock's start. */
const DATASET_FIELDS = 'id displayName description sourceType ownedBy createdAt status progress imageCount videoCount objectCount errorMessage isReady'
const READY = {
  id: SEED.datasets.ready,
  displayName: 'Product Images Q1',
  description: 'Catalog photos for the Q1 product launch',
  sourceType: 'BUCKET',
  ownedBy: 'VL',
  createdAt: '2026-01-20T08:47:55.439Z',
  status: 'READY',
  progress: 100,
  imageCount: 4812,
  videoCount: 0,
  objectCount: 0,
  errorMessage: null,
  isReady: true
}
const ASSEMBLY_LINE = {
  id: SEED.datasets.secondaryAccount,
  displayName: 'Assembly Line Cameras',
  description: 'Station 1-12 camera stills',
  sourceType: 'BUCKET',
  ownedBy: 'VL',
  // Its creation started 30 d 2 h 44 min 3 s before the clock's start; the record is written 160 ms later.
  createdAt: '2026-01-31T09:15:57.160Z',
  status: 'READY',
  progress: 100,
  imageCount: 7420,
  videoCount: 64,
  objectCount: 0,
  errorMessage: null,
  isReady: true
}

describe('per-request loaders (service account)', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway({ UPSTREAM_TIMEOUT_MS: '3000' }) })
  afterAll(async () => { await gw.close() })
  beforeEach(() => { gw.emulator.reset() })

  const sortedCalls = (): string[] => gw.emulator.calls().map((call) => `${call.method} ${call.path} ${call.status}`).sort()

  it('loads each distinct dataset of a 50-task page once, and a source dataset already loaded not again', async () => {
    const res = await gw.gql('{ tasks(pageSize: 50) { nodes { id dataset { displayName sourceDataset { displayName } } } } }')
    expect(res.body).toEqual({
      data: {
        tasks: {
          nodes: START_TIME_DESC.map((task) => ({
            id: SEED.tasks[task],
            dataset: {
              displayName: NAMES[datasetOf(task)],
              sourceDataset: datasetOf(task) === 'enriched' ? { displayName: 'Retail Shelf Photos' } : null
            }
          }))
        }
      }
    })
    // 46 tasks over Acme's 11 datasets; the enriched copy's source (Retail Shelf Photos) is one of them.
    expect(sortedCalls()).toEqual([
      ...ACME_DATASETS.map((key) => `GET /api/v1/dataset/${SEED.datasets[key]} 200`),
      'GET /api/v1/tasks 200'
    ].sort())
  })

  it('loads a source dataset that no task brought, once', async () => {
    const res = await gw.gql(`{ tasks(filter: { datasetId: "${SEED.datasets.enriched}" }) { nodes { id dataset { displayName sourceDataset { displayName sourceDataset { id } } } } } }`)
    const enriched = { displayName: 'Retail Shelf Photos (enriched)', sourceDataset: { displayName: 'Retail Shelf Photos', sourceDataset: null } }
    expect(res.body).toEqual({
      data: { tasks: { nodes: [{ id: SEED.tasks.enrichedSnapshotClone, dataset: enriched }, { id: SEED.tasks.enrichedMetadata, dataset: enriched }] } }
    })
    expect(sortedCalls()).toEqual([
      `GET /api/v1/dataset/${SEED.datasets.enrichedSource} 200`,
      `GET /api/v1/dataset/${SEED.datasets.enriched} 200`,
      'GET /api/v1/tasks 200'
    ].sort())
  })

  it('reads models and enrichment context once per listed dataset, and serves applied models from the same list', async () => {
    const res = await gw.gql('{ datasets { id models { id } enrichment { applied { modelId model { name } } } } }')
    const allModels = [{ id: 'vl_image_captioner_v00' }, { id: 'vl_object_detector_v00' }, { id: 'vl_object_captioner_v00' }, { id: 'nvidia_face_detector_v00' }]
    const data = res.body.data as { datasets: Array<{ id: string }> }
    expect(res.body.errors).toBeUndefined()
    expect(data.datasets.map((dataset) => dataset.id).sort()).toEqual(LISTED_DATASETS.map((key) => SEED.datasets[key]).sort())
    for (const dataset of data.datasets) {
      expect(dataset).toEqual({
        id: dataset.id,
        models: allModels,
        enrichment: {
          applied: dataset.id === SEED.datasets.enriched
            ? [
                { modelId: 'vl_image_captioner_v00', model: { name: 'VL-Image-Captioner' } },
                { modelId: 'vl_object_detector_v00', model: { name: 'VL-Object-Detector' } }
              ]
            : []
        }
      })
    }
    const calls = sortedCalls()
    expect(calls).toEqual([
      'GET /api/v1/datasets 200',
      ...LISTED_DATASETS.flatMap((key) => [
        `GET /api/v1/enrichment/${SEED.datasets[key]}/context 200`,
        `GET /api/v1/enrichment/${SEED.datasets[key]}/list_models 200`
      ])
    ].sort())
    expect(new Set(calls).size).toBe(calls.length)
  })

  it('answers 100 concurrent identical dataset(id) requests whole, with at most 5 upstream reads', async () => {
    // A realistic upstream latency, so the requests overlap with the reads in flight.
    gw.emulator.injectFault({ path: '/api/v1/dataset/*', delayMs: 300, times: 5 })
    const query = `query ($id: ID!) { dataset(id: $id) { ${DATASET_FIELDS} } }`
    const answers = await Promise.all(Array.from({ length: 100 }, async () => await gw.gql(query, { id: SEED.datasets.ready })))
    for (const res of answers) {
      expect(res.status).toBe(200)
      expect(res.body).toEqual({ data: { dataset: READY } })
    }
    const calls = gw.emulator.calls()
    expect(calls.every((call) => call.method === 'GET' && call.path === `/api/v1/dataset/${SEED.datasets.ready}` && call.status === 200)).toBe(true)
    expect(calls.length).toBeGreaterThanOrEqual(1)
    expect(calls.length).toBeLessThanOrEqual(5)
  })
})

describe('two accounts at once (passthrough)', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway({ AUTH_MODE: 'passthrough', UPSTREAM_TIMEOUT_MS: '3000' }) })
  afterAll(async () => { await gw.close() })
  beforeEach(() => { gw.emulator.reset() })

  const acme = DEMO_ACCOUNTS.primary
  const globex = DEMO_ACCOUNTS.secondary

  it('keeps each account\'s burst apart: own apiKey upstream, own data back, the other\'s dataset null', async () => {
    gw.emulator.injectFault({ path: '/api/v1/dataset/*', delayMs: 300, times: 5 })
    const tokens = { acme: visualLayerToken(acme), globex: visualLayerToken(globex) }
    const query = `query ($a: ID!, $g: ID!) { acme: dataset(id: $a) { ${DATASET_FIELDS} } globex: dataset(id: $g) { ${DATASET_FIELDS} } }`
    const variables = { a: SEED.datasets.ready, g: SEED.datasets.secondaryAccount }
    const answers = await Promise.all(Array.from({ length: 100 }, async (_, i) => {
      const who = i % 2 === 0 ? 'acme' : 'globex'
      const res = await gw.gql(query, variables, { authorization: `Bearer ${tokens[who]}`, 'x-request-id': `${who}-${i}` })
      return { who, res }
    }))
    for (const { who, res } of answers) {
      expect(res.status).toBe(200)
      expect(res.body).toEqual({ data: who === 'acme' ? { acme: READY, globex: null } : { acme: null, globex: ASSEMBLY_LINE } })
    }

    const calls = gw.emulator.calls()
    expect(calls.length).toBeGreaterThanOrEqual(4)
    for (const call of calls) {
      const who = call.requestId?.split('-')[0]
      // A shared read carries the request id of the request that started it: always the same account's.
      expect({ path: call.path, apiKey: call.apiKey }).toEqual({ path: call.path, apiKey: who === 'acme' ? acme.apiKey : globex.apiKey })
      const own = (who === 'acme' && call.path === `/api/v1/dataset/${SEED.datasets.ready}`) ||
        (who === 'globex' && call.path === `/api/v1/dataset/${SEED.datasets.secondaryAccount}`)
      expect({ path: call.path, who, status: call.status }).toEqual({ path: call.path, who, status: own ? 200 : 404 })
    }
    // Each account read both datasets itself.
    const pairs = new Set(calls.map((call) => `${call.apiKey} ${call.path}`))
    expect([...pairs].sort()).toEqual([
      `${acme.apiKey} /api/v1/dataset/${SEED.datasets.ready}`,
      `${acme.apiKey} /api/v1/dataset/${SEED.datasets.secondaryAccount}`,
      `${globex.apiKey} /api/v1/dataset/${SEED.datasets.ready}`,
      `${globex.apiKey} /api/v1/dataset/${SEED.datasets.secondaryAccount}`
    ].sort())
  })
})

describe('upstream concurrency of one operation', () => {
  const DELAY_MS = 200
  /** Gateways started in a test body: closed after it even when it fails. */
  const gateways: TestGateway[] = []
  afterEach(async () => { await Promise.all(gateways.splice(0).map(async (gw) => { await gw.close() })) })
  const query = '{ tasks(pageSize: 50) { nodes { dataset { id } } } }'

  /**
   * Runs the query with every dataset GET held DELAY_MS by the emulator, counting the dataset GETs in
   * flight as the emulator tells of each one's arrival and answer.
   */
  async function measure (gw: TestGateway): Promise<{ datasetGets: number, maxInFlight: number, elapsedMs: number }> {
    gw.emulator.reset()
    gw.emulator.injectFault({ path: '/api/v1/dataset/*', delayMs: DELAY_MS, times: 100 })
    let inFlight = 0
    let maxInFlight = 0
    const stopCounting = gw.emulator.onCall((call, phase) => {
      if (call.method !== 'GET' || !/^\/api\/v1\/dataset\/[^/]+$/.test(call.path)) return
      inFlight += phase === 'arrived' ? 1 : -1
      maxInFlight = Math.max(maxInFlight, inFlight)
    })
    const started = performance.now()
    try {
      const res = await gw.gql(query)
      expect(res.body.errors).toBeUndefined()
      expect((res.body.data as { tasks: { nodes: unknown[] } }).tasks.nodes).toHaveLength(46)
    } finally {
      stopCounting()
    }
    return { datasetGets: gw.emulator.calls({ method: 'GET', path: '/api/v1/dataset/*' }).length, maxInFlight, elapsedMs: performance.now() - started }
  }

  it('never has more than UPSTREAM_BATCH_CONCURRENCY=2 dataset GETs in flight', async () => {
    const gw = await startTestGateway({ UPSTREAM_BATCH_CONCURRENCY: '2', UPSTREAM_TIMEOUT_MS: '3000' })
    gateways.push(gw)
    const { datasetGets, maxInFlight, elapsedMs } = await measure(gw)
    expect(datasetGets).toBe(11)
    expect(maxInFlight).toBeGreaterThanOrEqual(1)
    expect(maxInFlight).toBeLessThanOrEqual(2)
    // With at most 2 at once and each held DELAY_MS, 11 GETs need at least ceil(11 / 2) = 6 rounds.
    // (Load can only make this longer; 3 or more at once would finish in 4 rounds or fewer.)
    expect(elapsedMs).toBeGreaterThanOrEqual(6 * DELAY_MS - 20)
  })

  it('(control) runs them in parallel with the default limit, so the measure above can see parallelism', async () => {
    const gw = await startTestGateway({ UPSTREAM_TIMEOUT_MS: '3000' })
    gateways.push(gw)
    const { datasetGets, maxInFlight } = await measure(gw)
    expect(datasetGets).toBe(11)
    expect(maxInFlight).toBeGreaterThan(2)
    expect(maxInFlight).toBeLessThanOrEqual(16)
  })
})
