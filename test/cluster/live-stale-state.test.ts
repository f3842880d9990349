import { afterEach, expect, it } from 'vitest'
import type { Client as SseClient } from 'graphql-sse'
import type { Client } from 'graphql-ws'
import { SEED } from '../../src/emulator/index.js'
import { describeWithRedis, startCluster, type TestCluster } from '../helpers/cluster.js'
import { leasesHeld, statusQuery, type StatusEvent } from '../helpers/cluster-polls.js'
import { recordSse, sseClient } from '../helpers/sse.js'
import { allPollersStopped } from '../helpers/polls.js'
import { record, wsClient } from '../helpers/ws.js'

/*
 * A new subscriber's first event is the state now, never a settled state Redis kept from before a
 * write: replica A's subscriber of a READY dataset gets READY and completes (A's poller stops and
 * releases its lease, the state stays in Redis); an enrichment through replica B turns the dataset
 * READ_ONLY; new subscribers on replica C, over WebSocket and SSE, then get READ_ONLY first, and READY
 * once the enrichment is done, as they would without Redis.
 */

let cluster: TestCluster | undefined
const ws: Client[] = []
const sse: Array<SseClient<boolean>> = []
afterEach(async () => {
  for (const client of sse.splice(0)) client.dispose()
  await Promise.all(ws.splice(0).map(async (client) => { await client.dispose() }))
  await cluster?.close()
  cluster = undefined
})

describeWithRedis('a new subscriber after a write through another replica', () => {
  it('gets the state after the write first (READ_ONLY), not the settled state kept in Redis (READY)', async () => {
    cluster = await startCluster({ replicas: 3, env: { POLL_INTERVAL_MS: '1000' } })
    const [a, b, c] = cluster.replicas
    if (a === undefined || b === undefined || c === undefined) throw new Error('three replicas')
    const id = SEED.datasets.ready
    const states = (events: Array<{ data?: StatusEvent | null }>): unknown[] => events.map((event) => event.data?.datasetStatusChanged)

    const onA = wsClient(a.url)
    ws.push(onA)
    const first = record<StatusEvent>(onA, statusQuery(id))
    await first.done
    expect(states(first.events)).toEqual([{ id, status: 'READY', progress: 100 }])
    await allPollersStopped(a)
    expect(await leasesHeld(a)).toBe(0)
    expect(await cluster.redis.exists(`${cluster.prefix}live:state:dataset:service:${id}`)).toBe(1)

    const enriched = await b.gql(`mutation { enrichDataset(datasetId: "${id}", models: [{ type: "CAPTION_IMAGES", modelId: "vl_image_captioner_v00" }]) { sourceDataset { status } } }`)
    expect(enriched.body).toEqual({ data: { enrichDataset: { sourceDataset: { status: 'READ_ONLY' } } } })
    expect((await c.gql(`{ dataset(id: "${id}") { status } }`)).body).toEqual({ data: { dataset: { status: 'READ_ONLY' } } })

    const onC = wsClient(c.url)
    ws.push(onC)
    const stream = sseClient(c.url, false)
    sse.push(stream)
    const overWs = record<StatusEvent>(onC, statusQuery(id))
    const overSse = recordSse<StatusEvent>(stream, statusQuery(id))
    await Promise.all([overWs.received(1), overSse.received(1)])
    // The enrichment's copy is READY 30 s after it started: its source is READY again.
    cluster.emulator.advance(30_000)
    await Promise.all([overWs.done, overSse.done])
    for (const events of [overWs.events, overSse.events]) {
      expect(states(events)).toEqual([{ id, status: 'READ_ONLY', progress: 100 }, { id, status: 'READY', progress: 100 }])
    }
  }, 30_000)
})
