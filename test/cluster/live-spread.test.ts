import { afterEach, expect, it } from 'vitest'
import type { Client } from 'graphql-ws'
import { describeWithRedis, startCluster, type TestCluster } from '../helpers/cluster.js'
import { anyRound, leasesHeld, statusQuery, type StatusEvent } from '../helpers/cluster-polls.js'
import { enrichAtEmulator, readyCopies } from '../helpers/datasets.js'
import type { TestGateway } from '../helpers/gateway.js'
import { callsArrived, whenAsked } from '../helpers/wait.js'
import { record, wsClient, type Recorded } from '../helpers/ws.js'

/*
 * Poll leases spread over the replicas with subscribers, instead of staying with the replica whose
 * pollers asked first (docs/scaling.md sizes MAX_POLLS_PER_SECOND on a spread). Twelve datasets
 * watched first on replica A only (A takes every lease), then on B and C too: A hands leases over
 * until each replica holds between floor(12/3) - 1 and ceil(12/3) + 1. Meanwhile every dataset
 * changes (READ_ONLY, then READY again), and every subscriber hears each state exactly once.
 */

const N = 12
const INTERVAL = 500
const LOW = Math.floor(N / 3) - 1
const HIGH = Math.ceil(N / 3) + 1

let cluster: TestCluster | undefined
const clients: Client[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map(async (client) => { await client.dispose() }))
  await cluster?.close()
  cluster = undefined
})

describeWithRedis('poll leases over three replicas', () => {
  it(`spread from 12/0/0 to between ${LOW} and ${HIGH} each, with no state missed or heard twice by any subscriber`, async () => {
    cluster = await startCluster({ replicas: 3, env: { POLL_INTERVAL_MS: String(INTERVAL), MAX_POLLS_PER_SECOND: '100' } })
    const { emulator, replicas } = cluster
    const [a, b, c] = replicas as [TestGateway, TestGateway, TestGateway]
    const ids = await readyCopies(emulator, N)
    const watch = (replica: TestGateway): Array<Recorded<StatusEvent>> => {
      const client = wsClient(replica.url)
      clients.push(client)
      return ids.map((id) => record<StatusEvent>(client, statusQuery(id, true)))
    }
    const held = async (): Promise<number[]> => await Promise.all(replicas.map(leasesHeld))

    const onA = watch(a)
    await Promise.all(onA.map(async (sub) => { await sub.received(1) }))
    await whenAsked(`replica A holding all ${N} leases`, anyRound(replicas), async () => await leasesHeld(a) === N)
    expect(await held()).toEqual([N, 0, 0])

    const onB = watch(b)
    const onC = watch(c)
    const all = [...onA, ...onB, ...onC]
    await Promise.all(all.map(async (sub) => { await sub.received(1) }))
    // Every dataset changes while the leases move: an enrichment of each, straight at Visual Layer
    // (no write through the gateway, so no invalidation: each holder finds it at its next poll).
    for (const id of ids) await enrichAtEmulator(emulator, id)
    await Promise.all(all.map(async (sub) => { await sub.received(2, 15_000) }))
    emulator.advance(30_000)
    await Promise.all(all.map(async (sub) => { await sub.received(3, 15_000) }))

    const spread = (counts: number[]): boolean => counts.reduce((sum, n) => sum + n, 0) === N && counts.every((n) => n >= LOW && n <= HIGH)
    // Leases move at rounds: looked at after each.
    await whenAsked('the leases to spread', anyRound(replicas), async () => spread(await held()), 15_000)
      .catch(async () => { throw new Error(`leases held stayed ${(await held()).join('/')}`) })
    // Two more polls of every dataset: nothing more is heard, and the spread holds.
    const from = emulator.calls({ method: 'GET', path: '/api/v1/dataset/*' }).length
    await callsArrived(emulator, { method: 'GET', path: '/api/v1/dataset/*' }, from + 2 * N, 15_000)
    const counts = await held()
    expect(spread(counts), `leases held: ${counts.join('/')}`).toBe(true)
    for (const [i, sub] of all.entries()) {
      const id = ids[i % N]
      expect(sub.events.map((event) => event.data?.datasetStatusChanged)).toEqual([
        { id, status: 'READY', progress: 100 },
        { id, status: 'READ_ONLY', progress: 100 },
        { id, status: 'READY', progress: 100 }
      ])
    }
  }, 90_000)
})
