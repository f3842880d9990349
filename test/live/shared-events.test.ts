import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Client as SseClient } from 'graphql-sse'
import type { Client } from 'graphql-ws'
import { SEED } from '../../src/emulator/index.js'
import type { CallRecord } from '../../src/emulator/call-log.js'
import type { TestGateway } from '../helpers/gateway.js'
import { AUTH_MODES, connectionParams, freshToken, startModeGateway } from '../helpers/modes.js'
import { bearer, recordSse, sseClient } from '../helpers/sse.js'
import { record, wsClient } from '../helpers/ws.js'

/*
 * One event, resolved once: the nested fields of a change are read from Visual Layer once for all
 * the subscribers of one credential scope that asked for the same selection, over WebSocket and SSE
 * alike, in every auth mode with tokens that expire. The change is made by a mutation (which wakes
 * the poller at once); the upstream calls are told apart by the request id each carries. Subscribers
 * that resolve at the same moment would share reads in flight anyway (shared reads in the upstream
 * client); a subscriber that comes later within the interval is what tells sharing results apart.
 */

/**
 * Long: the mutation wakes the poller at once, and a result is reused for one interval, so a late
 * subscriber handed the poller's last value within it shares the result too.
 */
const INTERVAL = 60_000
const id = SEED.datasets.enriched
const source = SEED.datasets.enrichedSource
const nested = `subscription Watch($id: ID!) { datasetStatusChanged(datasetId: $id, follow: true) {
  id status sourceDataset { id displayName } models { id } tasks(pageSize: 5) { total nodes { id } }
} }`
type Nested = { datasetStatusChanged: { id: string, status: string, sourceDataset: { id: string, displayName: string }, models: unknown[], tasks: unknown } }

const ws: Client[] = []
const sse: Array<SseClient<boolean>> = []
afterEach(async () => {
  for (const client of sse.splice(0)) client.dispose()
  await Promise.all(ws.splice(0).map(async (client) => { await client.dispose() }))
})

/** An upstream call made for a subscription, not by a poller or by the test's own mutation. */
const bySubscription = (call: CallRecord): boolean => call.requestId !== null && !call.requestId.startsWith('poll-') && !call.requestId.startsWith('test-')

describe.each(AUTH_MODES)('one event, resolved once (AUTH_MODE=%s)', (mode) => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startModeGateway(mode, { POLL_INTERVAL_MS: String(INTERVAL), WS_MAX_CONNECTIONS_PER_CALLER: '50', MODEL_CACHE_TTL_MS: '0' })
  })
  afterAll(async () => { await gw.close() })

  it('40 subscribers over WebSocket and SSE, one change: each nested read made once, the same event for all', async () => {
    gw.emulator.reset()
    const watching: Array<{ events: Array<{ data?: Nested | null }>, received: (count: number, timeoutMs?: number) => Promise<void> }> = []
    const params = Array.from({ length: 5 }, () => connectionParams(mode, { ttlSec: 120 }))
    for (let c = 0; c < 5; c++) {
      const client = wsClient(gw.url, params[c])
      ws.push(client)
      for (let s = 0; s < 6; s++) watching.push(record<Nested>(client, nested, { id }))
    }
    for (const single of [false, true]) {
      const client = sseClient(gw.url, single, bearer(freshToken(mode, { ttlSec: 120 })))
      sse.push(client)
      for (let s = 0; s < 5; s++) watching.push(recordSse<Nested>(client, nested, { id }))
    }
    await Promise.all(watching.map(async (sub) => { await sub.received(1, 20_000) }))
    expect(watching.map((sub) => sub.events[0]?.data?.datasetStatusChanged.status)).toEqual(Array(40).fill('READY'))

    const before = gw.emulator.calls().length
    const turnsBefore = gw.app.live.turnsGranted
    const res = await gw.gql(
      `mutation { enrichDataset(datasetId: "${id}", models: [{ type: "CAPTION_OBJECTS", modelId: "vl_object_captioner_v00" }]) { enrichedDatasetId } }`,
      {},
      { ...bearer(freshToken(mode)), 'x-request-id': 'test-enrich' }
    )
    expect(res.body.errors).toBeUndefined()
    await Promise.all(watching.map(async (sub) => { await sub.received(2, 20_000) }))

    const second = watching.map((sub) => sub.events[1])
    expect(second[0]?.data?.datasetStatusChanged).toMatchObject({ id, status: 'READ_ONLY', sourceDataset: { id: source, displayName: 'Retail Shelf Photos' } })
    for (const event of second) expect(event).toEqual(second[0])

    // Every upstream call of the subscriptions, polls and nested reads alike, waited its turn under the poll ceiling.
    const live = gw.emulator.calls().slice(before).filter((call) => call.requestId !== 'test-enrich')
    expect(gw.app.live.turnsGranted - turnsBefore).toBe(live.length)
    const calls = live.filter(bySubscription)
    const reads = calls.map((call) => `${call.method} ${call.path}${new URLSearchParams(call.query).size > 0 ? `?${new URLSearchParams(call.query).toString()}` : ''}`)
    // One subscriber executed the selection, for all 40: one read of each nested field.
    expect(new Set(calls.map((call) => call.requestId)).size).toBe(1)
    expect(reads.sort()).toEqual([
      `GET /api/v1/dataset/${source}`,
      `GET /api/v1/enrichment/${id}/list_models`,
      `GET /api/v1/tasks?dataset_id=${id}&sort_by=start_time&sort_order=desc&page=1&page_size=5`
    ].sort())

    // A subscriber that comes now is handed the poller's last value, and its result, with no upstream
    // call. (In passthrough a token Visual Layer has not accepted yet is a scope of its own, which
    // shares nothing: this one comes with a token already accepted.)
    const after = gw.emulator.calls().length
    const late = wsClient(gw.url, params[0])
    ws.push(late)
    const same = record<Nested>(late, nested, { id })
    await same.received(1)
    expect(same.events[0]).toEqual(second[0])
    expect(gw.emulator.calls().slice(after).filter(bySubscription)).toEqual([])

    // Another selection is resolved on its own: only the read it adds.
    const other = record<{ datasetStatusChanged: { id: string, models: Array<{ id: string, name: string }> } }>(
      late, 'subscription Other($id: ID!) { datasetStatusChanged(datasetId: $id, follow: true) { id models { id name } } }', { id })
    await other.received(1)
    expect(other.events[0]?.data?.datasetStatusChanged.models.length).toBeGreaterThan(0)
    expect(gw.emulator.calls().slice(after).filter(bySubscription).map((call) => `${call.method} ${call.path}`)).toEqual([
      `GET /api/v1/enrichment/${id}/list_models`
    ])
  })
})
