import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'

/**
 * Query.datasetsByIds: "Several datasets at once, in the order of `ids`, null where one does not
 * exist. At most 100 ids." Visual Layer has no batch read, so each distinct id is one GET.
 */

let gw: TestGateway
beforeAll(async () => { gw = await startTestGateway({ UPSTREAM_TIMEOUT_MS: '1000' }) })
afterAll(async () => { await gw.close() })
beforeEach(() => { gw.emulator.reset() })

const MISSING = '00000000-0000-4000-8000-000000000000'
const upstreamCalls = (): string[] => gw.emulator.calls().map((call) => `${call.method} ${call.path} ${call.status}`).sort()
const get = (id: string, status = 200): string => `GET /api/v1/dataset/${id} ${status}`

const QUERY = 'query ($ids: [ID!]!) { datasetsByIds(ids: $ids) { id displayName status progress isReady } }'
// `datasetsByIds` starts at column 24 of QUERY.
const FIELD_AT = [{ line: 1, column: 24 }]

const ENRICHED = { id: SEED.datasets.enriched, displayName: 'Retail Shelf Photos (enriched)', status: 'READY', progress: 100, isReady: true }
const READY = { id: SEED.datasets.ready, displayName: 'Product Images Q1', status: 'READY', progress: 100, isReady: true }
const INDEXING = { id: SEED.datasets.indexing, displayName: 'Drone Survey March', status: 'INDEXING', progress: 14, isReady: false }
const HIDDEN = { id: SEED.datasets.hidden, displayName: 'Archived: Legacy Catalog 2023', status: 'READY', progress: 100, isReady: true }
const ERROR = { id: SEED.datasets.error, displayName: 'Medical Scans Batch 7', status: 'ERROR', progress: 37, isReady: false }

describe('Query.datasetsByIds', () => {
  it('answers in the order of ids, null for a missing and a foreign id, one GET per id', async () => {
    const ids = [SEED.datasets.enriched, MISSING, SEED.datasets.ready, SEED.datasets.secondaryAccount, SEED.datasets.indexing, SEED.datasets.hidden]
    const res = await gw.gql(QUERY, { ids })
    expect(res.status).toBe(200)
    // The hidden dataset is left out of the list only; read by id, it is there.
    expect(res.body).toEqual({ data: { datasetsByIds: [ENRICHED, null, READY, null, INDEXING, HIDDEN] } })
    expect(upstreamCalls()).toEqual([
      get(SEED.datasets.enriched),
      get(MISSING, 404),
      get(SEED.datasets.ready),
      get(SEED.datasets.secondaryAccount, 404),
      get(SEED.datasets.indexing),
      get(SEED.datasets.hidden)
    ].sort())
  })

  it('keeps the order when it is the reverse of the list\'s', async () => {
    const res = await gw.gql(QUERY, { ids: [SEED.datasets.ready, SEED.datasets.error, SEED.datasets.indexing] })
    expect(res.body).toEqual({ data: { datasetsByIds: [READY, ERROR, INDEXING] } })
  })

  it('fetches a repeated id once, whatever its case, and shares it with dataset(id) in the same request', async () => {
    const res = await gw.gql(`{
      datasetsByIds(ids: ["${SEED.datasets.ready}", "${SEED.datasets.error}", "${SEED.datasets.ready.toUpperCase()}", "${SEED.datasets.ready}"]) { id displayName status progress isReady }
      dataset(id: "${SEED.datasets.ready}") { displayName }
    }`)
    expect(res.body).toEqual({ data: { datasetsByIds: [READY, ERROR, READY, READY], dataset: { displayName: 'Product Images Q1' } } })
    expect(upstreamCalls()).toEqual([get(SEED.datasets.error), get(SEED.datasets.ready)].sort())
  })

  it('answers an empty list without an upstream call', async () => {
    const res = await gw.gql(QUERY, { ids: [] })
    expect(res.body).toEqual({ data: { datasetsByIds: [] } })
    expect(upstreamCalls()).toEqual([])
  })

  it('accepts exactly 100 ids', async () => {
    const res = await gw.gql(QUERY, { ids: Array.from({ length: 100 }, () => SEED.datasets.ready) })
    expect(res.body).toEqual({ data: { datasetsByIds: Array.from({ length: 100 }, () => READY) } })
    expect(upstreamCalls()).toEqual([get(SEED.datasets.ready)])
  })

  it('refuses 101 ids with BAD_USER_INPUT and no upstream call', async () => {
    const res = await gw.gql(QUERY, { ids: Array.from({ length: 101 }, () => SEED.datasets.ready) }, { 'x-request-id': 'req-101' })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      data: null,
      errors: [{ message: 'Argument ids accepts at most 100 ids; got 101.', locations: FIELD_AT, path: ['datasetsByIds'], extensions: { code: 'BAD_USER_INPUT', requestId: 'req-101' } }]
    })
    expect(upstreamCalls()).toEqual([])
  })

  it('refuses a malformed id with BAD_USER_INPUT naming it and its position, and no upstream call', async () => {
    const res = await gw.gql(QUERY, { ids: [SEED.datasets.ready, SEED.datasets.error, '../datasets?include_hidden=true'] }, { 'x-request-id': 'req-bad-id' })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      data: null,
      errors: [{
        message: 'Argument ids[2] must be a Visual Layer id (a UUID such as ad48d250-1232-11f1-bfca-fa39f6ed1f22); got "../datasets?include_hidden=true".',
        locations: FIELD_AT,
        path: ['datasetsByIds'],
        extensions: { code: 'BAD_USER_INPUT', requestId: 'req-bad-id' }
      }]
    })
    expect(upstreamCalls()).toEqual([])
  })

  it.each([
    ['a 500', { status: 500, body: { detail: 'boom' } }, 500, {
      message: `Visual Layer failed (HTTP 500) while handling dataset ${SEED.datasets.error}; try again, and contact Visual Layer support if it persists.`,
      extensions: { code: 'UPSTREAM_ERROR', requestId: 'req-partial', upstream: { status: 500 } }
    }],
    ['a 503', { status: 503, body: { detail: 'maintenance' } }, 503, {
      message: `Visual Layer is unavailable (HTTP 503) while reading dataset ${SEED.datasets.error}; try again shortly.`,
      extensions: { code: 'UPSTREAM_UNAVAILABLE', requestId: 'req-partial', upstream: { status: 503 } }
    }],
    ['a dropped connection', { drop: true }, 0, {
      message: `Visual Layer could not be reached for dataset ${SEED.datasets.error}. Try again shortly.`,
      extensions: { code: 'UPSTREAM_UNAVAILABLE', requestId: 'req-partial' }
    }]
  ])('leaves the other datasets intact when one id fails with %s (null there, an error at its index)', async (_name, fault, status, error) => {
    gw.emulator.injectFault({ path: `/api/v1/dataset/${SEED.datasets.error}`, ...fault })
    const res = await gw.gql(QUERY, { ids: [SEED.datasets.ready, SEED.datasets.error, MISSING, SEED.datasets.indexing] }, { 'x-request-id': 'req-partial' })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      data: { datasetsByIds: [READY, null, null, INDEXING] },
      errors: [{ ...error, locations: FIELD_AT, path: ['datasetsByIds', 1] }]
    })
    expect(upstreamCalls()).toEqual([get(SEED.datasets.ready), get(SEED.datasets.error, status), get(MISSING, 404), get(SEED.datasets.indexing)].sort())
  })
})
