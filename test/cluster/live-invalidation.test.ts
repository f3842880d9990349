import { afterEach, expect, it } from 'vitest'
import type { Client } from 'graphql-ws'
import { SEED } from '../../src/emulator/index.js'
import { describeWithRedis, startCluster, type TestCluster } from '../helpers/cluster.js'
import { datasetPollsBy, leasesHeld, type StatusEvent } from '../helpers/cluster-polls.js'
import { AUTH_MODES, connectionParams, modeEnv } from '../helpers/modes.js'
import { ManualTime } from '../helpers/manual-time.js'
import { record, wsClient } from '../helpers/ws.js'

/*
 * Invalidations after writes reach every replica: a write through one replica makes the poller that
 * holds the lease on another poll at once. The pollers run on time the test never moves (ManualTime):
 * a change seen at all can only come from the write's invalidation. Every auth mode, with tokens that expire; the
 * same caller subscribes and writes (passthrough: a write wakes the pollers of its own scope).
 */

const INTERVAL = 5000
const statusQuery = (id: string): string => `subscription { datasetStatusChanged(datasetId: "${id}", follow: true) { id status progress } }`

let cluster: TestCluster | undefined
const clients: Client[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map(async (client) => { await client.dispose() }))
  await cluster?.close()
  cluster = undefined
})

describeWithRedis.each(AUTH_MODES)('invalidations across replicas (AUTH_MODE=%s)', (mode) => {
  it('an enrichment through replica A makes the lease holder on replica B poll at once', async () => {
    const time = new ManualTime()
    cluster = await startCluster({ replicas: 2, env: { ...modeEnv(mode), POLL_INTERVAL_MS: String(INTERVAL) }, build: { liveTime: time } })
    const [a, b] = cluster.replicas
    if (a === undefined || b === undefined) throw new Error('two replicas')
    const params = connectionParams(mode, { ttlSec: 120 })
    const client = wsClient(b.url, params)
    clients.push(client)
    const id = SEED.datasets.ready
    const sub = record<StatusEvent>(client, statusQuery(id))
    await sub.received(1)
    expect(a.app.live.size).toBe(0)

    const res = await a.gql(
      `mutation { enrichDataset(datasetId: "${id}", models: [{ type: "CAPTION_IMAGES", modelId: "vl_image_captioner_v00" }]) { sourceDataset { status } } }`,
      {}, params as Record<string, string>
    )
    expect(res.body).toEqual({ data: { enrichDataset: { sourceDataset: { status: 'READ_ONLY' } } } })
    await sub.received(2)
    expect(time.now()).toBe(0)
    expect(sub.events.map((event) => event.data?.datasetStatusChanged)).toEqual([
      { id, status: 'READY', progress: 100 },
      { id, status: 'READ_ONLY', progress: 100 }
    ])
    // B polled (and holds the lease); A, with no subscriber, never did.
    expect(await leasesHeld(b)).toBe(1)
    expect(await datasetPollsBy(a)).toBe(0)
    expect(await datasetPollsBy(b)).toBeGreaterThanOrEqual(2)
  }, 30_000)
})
