import { afterEach, expect, it } from 'vitest'
import type { Client } from 'graphql-ws'
import { SEED } from '../../src/emulator/index.js'
import type { PollRoundMessage } from '../../src/domain/live/events.js'
import { describeWithRedis, startCluster, type TestCluster } from '../helpers/cluster.js'
import type { TestGateway } from '../helpers/gateway.js'
import { statusQuery, type StatusEvent } from '../helpers/cluster-polls.js'
import { AUTH_MODES, connectionParams, modeEnv } from '../helpers/modes.js'
import { nextEvent, onChannel } from '../helpers/wait.js'
import { record, wsClient } from '../helpers/ws.js'

/*
 * Adaptive polling on three replicas with Redis: the lease holder's interval decides. A settled
 * dataset watched on every replica slows to POLL_MAX_INTERVAL_MS with one poll per interval for the
 * whole cluster, and a write through a replica that does not hold the lease reaches every replica's
 * subscribers long before that interval ends, the holder back at the fast interval. Real time here
 * (each replica its own timers), with a ceiling long enough that a change seen within a fraction of it
 * can only come from the write.
 */

const FAST = 250
const CEILING = 4000
const rounds = onChannel<PollRoundMessage>('visual-layer:live:round')

let cluster: TestCluster | undefined
const clients: Client[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map(async (client) => { await client.dispose() }))
  await cluster?.close()
  cluster = undefined
})

describeWithRedis.each(AUTH_MODES)('adaptive polling across replicas (AUTH_MODE=%s)', (mode) => {
  it('the holder slows a settled dataset to the ceiling; a write through another replica reaches all at once, the holder fast again', async () => {
    cluster = await startCluster({ replicas: 3, env: { ...modeEnv(mode), POLL_INTERVAL_MS: String(FAST), POLL_MAX_INTERVAL_MS: String(CEILING) } })
    const { replicas, emulator } = cluster
    const registries = new Set(replicas.map((replica) => replica.app.live as object))
    const id = SEED.datasets.ready
    const params = connectionParams(mode, { ttlSec: 120 })
    // The ceiling reached: a round of the holder (the replica that polled) sleeping at least 90 % of it.
    const ceiling = async (): Promise<PollRoundMessage> => await nextEvent('the holder at the ceiling', rounds, (m) =>
      registries.has(m.registry) && m.datasetId === id && m.outcome === 'unchanged' && m.nextInMs >= CEILING * 0.9, 20_000)
    const settled = ceiling()
    const subs = replicas.map((replica) => {
      const client = wsClient(replica.url, params)
      clients.push(client)
      return record<StatusEvent>(client, statusQuery(id, true))
    })
    await Promise.all(subs.map(async (sub) => { await sub.received(1) }))
    // The holder at the ceiling, then the cluster's next poll: the holder's, one ceiling later. (A holder that a
    // busy machine made late to renew its lease hands it on, and the new holder starts at the fast interval: then
    // its way to the ceiling is waited for again.)
    const path = `/api/v1/dataset/${id}`
    let holder: TestGateway | undefined
    let next: { round: PollRoundMessage, at: number } | undefined
    for (let attempt = 0; attempt < 3 && next === undefined; attempt++) {
      const atCeiling = await (attempt === 0 ? settled : ceiling())
      const before = emulator.calls({ method: 'GET', path }).length
      const round = await nextEvent('the cluster\'s next poll', rounds, (m) => registries.has(m.registry) && m.datasetId === id && m.outcome !== 'followed', 10_000)
      const at = performance.now()
      if (round.registry !== atCeiling.registry) continue
      // One poll for the cluster at that round: the GETs before and after it differ by one.
      expect(round).toMatchObject({ outcome: 'unchanged' })
      expect(round.nextInMs).toBeGreaterThanOrEqual(CEILING * 0.9)
      expect(emulator.calls({ method: 'GET', path }).length - before).toBe(1)
      holder = replicas.find((replica) => replica.app.live === round.registry)
      next = { round, at }
    }
    const writer = replicas.find((replica) => replica !== holder)
    if (holder === undefined || writer === undefined || next === undefined) throw new Error('no holder kept the lease for two polls at the ceiling in three tries')

    // The poll that sees the write: the holder's, or (on a machine too busy for the holder to renew its lease in
    // time) the poll of the replica that took the lease over; either way at the fast interval again.
    const fastAgain = nextEvent('the poll after the write', rounds, (m) => registries.has(m.registry) && m.datasetId === id && m.outcome === 'changed', 10_000)
      .then((round) => ({ round, at: performance.now() }))
    const res = await writer.gql(
      `mutation { enrichDataset(datasetId: "${id}", models: [{ type: "CAPTION_IMAGES", modelId: "vl_image_captioner_v00" }]) { sourceDataset { status } } }`,
      {}, params as Record<string, string>
    )
    expect(res.body).toEqual({ data: { enrichDataset: { sourceDataset: { status: 'READ_ONLY' } } } })
    await Promise.all(subs.map(async (sub) => { await sub.received(2) }))
    for (const sub of subs) {
      expect(sub.events.map((event) => event.data?.datasetStatusChanged)).toEqual([
        { id, status: 'READY', progress: 100 },
        { id, status: 'READ_ONLY', progress: 100 }
      ])
    }
    const changed = await fastAgain
    expect(changed.round.nextInMs).toBeLessThanOrEqual(FAST * 1.1)
    // Before the holder's timer was due (a busy machine fires timers late, never early): the write's invalidation woke it.
    expect(changed.at).toBeLessThan(next.at + next.round.nextInMs)
  }, 60_000)
})
