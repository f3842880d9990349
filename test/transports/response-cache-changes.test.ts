import type { Client } from 'graphql-ws'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { ManualTime } from '../helpers/manual-time.js'
import { allPollersStopped, nextRound, pollNow } from '../helpers/polls.js'
import { record, wsClient } from '../helpers/ws.js'

/**
 * The response cache and the pollers: a change a poller sees (here, behind a subscription, on time the
 * test moves) drops the kept answers that read that dataset, and every answer that read a list of the
 * whole account; an answer of another dataset stays. Nothing else drops them: the answers' own clock
 * never moves in this file.
 */

const INDEXING = SEED.datasets.indexing
const READY = SEED.datasets.ready
const STATUS = 'query Status($id: ID!) { dataset(id: $id) { id status } }'
const LIST = 'query List { datasets { id status } }'

describe('the response cache and the pollers', () => {
  let gw: TestGateway
  const time = new ManualTime()
  const clients: Client[] = []
  const ask = async (query: string, variables?: Record<string, unknown>): Promise<unknown> => (await gw.gql(query, variables)).body
  const calls = (path: string): number => gw.emulator.calls({ method: 'GET', path }).length

  beforeAll(async () => { gw = await startTestGateway({ RESPONSE_CACHE_TTL_MS: '60000', POLL_INTERVAL_MS: '1000' }, { liveTime: time, responseCacheClock: () => 0 }) })
  afterEach(async () => {
    await Promise.all(clients.splice(0).map(async (client) => { await client.dispose() }))
    await allPollersStopped(gw)
  })
  afterAll(async () => { await gw.close() })

  it('a change a poller sees drops the answers that read its dataset, and the account lists', async () => {
    gw.emulator.reset()
    const indexingOf = (body: unknown): unknown => (body as { data: { datasets: Array<{ id: string, status: string }> } }).data.datasets.find((d) => d.id === INDEXING)
    expect(await ask(STATUS, { id: INDEXING })).toEqual({ data: { dataset: { id: INDEXING, status: 'INDEXING' } } })
    expect(await ask(STATUS, { id: READY })).toEqual({ data: { dataset: { id: READY, status: 'READY' } } })
    expect(indexingOf(await ask(LIST))).toEqual({ id: INDEXING, status: 'INDEXING' })

    const client = wsClient(gw.url)
    clients.push(client)
    const firstLook = nextRound(gw, INDEXING)
    const sub = record<{ datasetStatusChanged: { status: string } }>(client, `subscription { datasetStatusChanged(datasetId: "${INDEXING}", follow: true) { status } }`)
    await sub.received(1)
    await firstLook
    // The first poll is the poller's baseline, no change: every answer is still kept.
    await ask(STATUS, { id: INDEXING })
    await ask(LIST)
    expect([calls(`/api/v1/dataset/${INDEXING}`), calls('/api/v1/datasets')]).toEqual([2, 1])

    // INDEXING is READY 30 s after the start.
    gw.emulator.advance(31_000)
    expect(await pollNow(gw, time, INDEXING)).toMatchObject({ outcome: 'changed' })
    gw.emulator.clearCalls()
    expect(await ask(STATUS, { id: INDEXING })).toEqual({ data: { dataset: { id: INDEXING, status: 'READY' } } })
    expect(indexingOf(await ask(LIST))).toEqual({ id: INDEXING, status: 'READY' })
    expect(await ask(STATUS, { id: READY })).toEqual({ data: { dataset: { id: READY, status: 'READY' } } })
    expect(gw.emulator.calls().map((call) => call.path).sort()).toEqual(['/api/v1/dataset/' + INDEXING, '/api/v1/datasets'].sort())
  })
})
