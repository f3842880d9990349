import { afterEach, expect, it } from 'vitest'
import type { Client } from 'graphql-ws'
import { SEED } from '../../src/emulator/index.js'
import { describeWithRedis, startCluster, type TestCluster } from '../helpers/cluster.js'
import { leasesHeld, pollLog, pollsByReplica, type PollLog, statusQuery, type StatusEvent } from '../helpers/cluster-polls.js'
import type { TestGateway } from '../helpers/gateway.js'
import { AUTH_MODES, connectionParams, modeEnv } from '../helpers/modes.js'
import { record, until, wsClient, type Recorded } from '../helpers/ws.js'

/*
 * Hand-over of a poll lease: when the replica that polls for the cluster dies (its lease expires) or
 * its last subscriber leaves (it releases the lease), another replica with subscribers polls within
 * two intervals of the last poll, and its subscribers hear every settled state once. In every auth
 * mode, with tokens that expire; polls are timed on the wall clock (test/helpers/cluster-polls.ts).
 */

const INTERVAL = 300

let cluster: TestCluster | undefined
let log: PollLog | undefined
const clients: Client[] = []
afterEach(async () => {
  log?.close()
  await Promise.all(clients.splice(0).map(async (client) => { await client.dispose() }))
  await cluster?.close()
  cluster = undefined
})

async function start (mode: (typeof AUTH_MODES)[number]): Promise<TestCluster> {
  cluster = await startCluster({ replicas: 3, env: { ...modeEnv(mode), POLL_INTERVAL_MS: String(INTERVAL) } })
  return cluster
}

/** `perReplica` subscribers on each replica, on one connection each (one caller's token). */
function subscribe (replicas: readonly TestGateway[], params: Record<string, unknown>, query: string, perReplica: number): Array<Array<Recorded<StatusEvent>>> {
  return replicas.map((replica) => {
    const client = wsClient(replica.url, params)
    clients.push(client)
    return Array.from({ length: perReplica }, () => record<StatusEvent>(client, query))
  })
}

/** The one replica that holds a lease, once exactly one does and still does two polls later (passthrough pollers move once proven). */
async function holderOf (replicas: readonly TestGateway[], polls: PollLog): Promise<TestGateway> {
  const only = async (): Promise<TestGateway | null> => {
    const held = await Promise.all(replicas.map(leasesHeld))
    return held.reduce((sum, n) => sum + n, 0) === 1 ? replicas[held.indexOf(1)] ?? null : null
  }
  for (let tries = 0; tries < 10; tries++) {
    let holder: TestGateway | null = null
    await until(async () => (holder = await only()) !== null)
    const seen = polls.times.length
    await until(() => polls.times.length >= seen + 2)
    if (holder !== null && await only() === holder) return holder
  }
  throw new Error('no steady lease holder')
}

/** The longest wall-clock gap between upstream polls from `from` to the last poll so far. */
function longestGap (polls: PollLog, from: number): number {
  const times = polls.times.filter((t) => t >= from)
  if (times.length < 2) throw new Error('fewer than two polls to compare')
  return Math.max(...times.slice(1).map((t, i) => t - (times[i] ?? t)))
}

/** Resolves once these replicas together made more dataset polls than `before`. */
async function pollsAgain (replicas: readonly TestGateway[], before: number[]): Promise<void> {
  const total = before.reduce((sum, n) => sum + n, 0)
  await until(async () => (await pollsByReplica(replicas)).reduce((sum, n) => sum + n, 0) > total, 5000, 2)
}

/**
 * A replica dies: its links to Redis drop and its pollers stop, so it neither renews nor releases
 * its lease (a release sent on a dropped link fails at once); then the app closes.
 */
async function kill (replica: TestGateway): Promise<void> {
  const redis = replica.app.redis
  if (redis === null) throw new Error('no Redis link')
  redis.commands.disconnect()
  redis.pubsub().disconnect()
  replica.app.live.close()
  await replica.close()
}

/** Waits until the sampler has timed every GET of `id` made so far; returns the last one's time. */
async function lastPollTime (cluster: TestCluster, id: string, polls: PollLog): Promise<number> {
  const made = cluster.emulator.calls({ method: 'GET', path: `/api/v1/dataset/${id}` }).length
  await until(() => polls.times.length >= made, 1000, 2)
  return polls.times.at(-1) ?? 0
}

const statesOf = (sub: Recorded<StatusEvent>): unknown[] => sub.events.map((event) => event.data?.datasetStatusChanged)

describeWithRedis.each(AUTH_MODES)('poll lease hand-over (AUTH_MODE=%s)', (mode) => {
  it('the holder dies mid-stream: another replica polls within two intervals, and every subscriber left hears each state once, READY last', async () => {
    const { emulator, replicas } = await start(mode)
    const id = SEED.datasets.indexing
    log = pollLog(emulator, id)
    const subs = subscribe(replicas, connectionParams(mode), statusQuery(id), 20)
    await Promise.all(subs.flat().map(async (sub) => { await sub.received(1) }))
    const holder = await holderOf(replicas, log)
    const survivors = replicas.filter((replica) => replica !== holder)
    const surviving = subs.filter((_list, i) => replicas[i] !== holder).flat()

    // Two steps of the indexing heard by everyone, then the holder dies between two polls.
    for (let step = 2; step <= 3; step++) {
      emulator.advance(3000)
      await until(() => surviving.every((sub) => sub.events.length === step))
    }
    const before = await pollsByReplica(survivors)
    const killedAt = performance.now()
    await kill(holder)
    await pollsAgain(survivors, before)
    await lastPollTime(cluster as TestCluster, id, log)
    // From the holder's last polls to a survivor's first, never more than two intervals without a poll.
    expect(longestGap(log, killedAt - 2 * INTERVAL)).toBeLessThanOrEqual(2 * INTERVAL)
    const after = await pollsByReplica(survivors)
    expect(after.map((n, i) => n - (before[i] ?? 0)).filter((n) => n > 0)).toHaveLength(1)
    expect((await Promise.all(survivors.map(leasesHeld))).sort()).toEqual([0, 1])

    // On to READY, each state once for every subscriber left.
    const ready = (sub: Recorded<StatusEvent>): boolean => sub.events.at(-1)?.data?.datasetStatusChanged.status === 'READY'
    for (let step = 0; step < 30 && !surviving.every(ready); step++) {
      emulator.advance(3000)
      const seen = log.times.length
      await until(() => surviving.every(ready) || (log?.times.length ?? 0) > seen, 10_000, 5)
    }
    await Promise.all(surviving.map(async (sub) => { await sub.done }))
    const sequence = statesOf(surviving[0] as Recorded<StatusEvent>)
    for (const sub of surviving) expect(statesOf(sub)).toEqual(sequence)
    expect(sequence[0]).toEqual({ id, status: 'INDEXING', progress: 14 })
    expect(sequence.at(-1)).toEqual({ id, status: 'READY', progress: 100 })
    expect(sequence.filter((state) => (state as { status: string }).status === 'READY')).toHaveLength(1)
    const progress = sequence.map((state) => (state as { progress: number }).progress)
    for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThan(progress[i - 1] ?? 100)
  }, 60_000)

  it('the holder\'s last subscriber leaves while others remain: it releases the lease, and another replica polls within two intervals', async () => {
    const { emulator, replicas } = await start(mode)
    const id = SEED.datasets.readySecond
    log = pollLog(emulator, id)
    const subs = subscribe(replicas, connectionParams(mode), statusQuery(id, true), 3)
    await Promise.all(subs.flat().map(async (sub) => { await sub.received(1) }))
    const holder = await holderOf(replicas, log)
    const at = replicas.indexOf(holder)
    const others = replicas.filter((replica) => replica !== holder)
    const before = await pollsByReplica(others)
    const leftAt = performance.now()
    for (const sub of subs[at] ?? []) sub.stop()
    await until(async () => await leasesHeld(holder) === 0 && holder.app.live.size === 0)
    await pollsAgain(others, before)
    await lastPollTime(cluster as TestCluster, id, log)
    expect(longestGap(log, leftAt - 2 * INTERVAL)).toBeLessThanOrEqual(2 * INTERVAL)
    expect((await Promise.all(others.map(leasesHeld))).sort()).toEqual([0, 1])
    // The others heard READY once, when they subscribed, and nothing since.
    for (const sub of subs.filter((_list, i) => i !== at).flat()) expect(statesOf(sub)).toEqual([{ id, status: 'READY', progress: 100 }])
  }, 60_000)
})
