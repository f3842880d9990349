import { afterEach, expect, it } from 'vitest'
import type { Client } from 'graphql-ws'
import { SEED } from '../../src/emulator/index.js'
import { describeWithRedis, keyEvents, startCluster, type TestCluster } from '../helpers/cluster.js'
import { leasesHeld, pollsByReplica, roundLog, type Round, type RoundLog, statusQuery, type StatusEvent } from '../helpers/cluster-polls.js'
import type { TestGateway } from '../helpers/gateway.js'
import { AUTH_MODES, connectionParams, modeEnv } from '../helpers/modes.js'
import { record, wsClient, type Recorded } from '../helpers/ws.js'

/*
 * Hand-over of a poll lease: when the replica that polls for the cluster dies (its lease expires) or
 * its last subscriber leaves (it releases the lease), another replica with subscribers polls within
 * two intervals of the last poll, and its subscribers hear every settled state once. In every auth
 * mode, with tokens that expire.
 *
 * Nothing here is timed on the wall clock. "Within two intervals" is held as the schedule the
 * replicas set themselves, which a busy machine only runs late: the dead holder's lease, read in Redis
 * right after its last poll, ends at most 1.6 intervals later (that poll's next interval with its
 * 10 % jitter, and half an interval); each survivor, following meanwhile, asks again at most an interval after its last
 * round (10 ms after the lease ends when that is sooner); and the survivor's poll is awaited as an
 * event (the lease's expiry in Redis, then the survivor's round).
 */

const INTERVAL = 300

let cluster: TestCluster | undefined
let log: RoundLog | undefined
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

const polled = (round: Round): boolean => round.outcome !== 'followed'

/**
 * The one replica that polls for the cluster, once it has polled two rounds in a row with no other
 * replica polling between (passthrough pollers move once proven) and it alone holds a lease; with
 * the round of its last poll. (A holder that a busy machine made late to renew hands the lease on:
 * the holder is the one found at the moment it is needed.)
 */
async function holderOf (replicas: readonly TestGateway[], rounds: RoundLog): Promise<{ holder: TestGateway, at: number, poll: Round }> {
  let last = -1
  for (let tries = 0; tries < 50; tries++) {
    const round = await rounds.next('a poll', polled)
    const held = await Promise.all(replicas.map(leasesHeld))
    if (round.replica === last && held.reduce((sum, n) => sum + n, 0) === 1 && held[round.replica] === 1) {
      return { holder: replicas[round.replica] as TestGateway, at: round.replica, poll: round }
    }
    last = round.replica
  }
  throw new Error('no steady lease holder')
}

/** The lease of the cluster's one poller (its key under the cluster's prefix). */
async function leaseKey (cluster: TestCluster): Promise<string> {
  const keys = await cluster.redis.keys(`${cluster.prefix}live:lease:*`)
  if (keys.length !== 1) throw new Error(`expected one lease, found ${keys.length}`)
  return keys[0] as string
}

/** What a survivor's rounds promise, from `from` on: each follower asked again within an interval. */
function expectFollowersWithinAnInterval (rounds: RoundLog, from: number): void {
  const followed = rounds.rounds.slice(from).filter((round) => !polled(round))
  for (const round of followed) expect(round.nextInMs).toBeLessThanOrEqual(INTERVAL)
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

const statesOf = (sub: Recorded<StatusEvent>): unknown[] => sub.events.map((event) => event.data?.datasetStatusChanged)

describeWithRedis.each(AUTH_MODES)('poll lease hand-over (AUTH_MODE=%s)', (mode) => {
  it('the holder dies mid-stream: another replica polls within two intervals, and every subscriber left hears each state once, READY last', async () => {
    const { emulator, replicas } = await start(mode)
    const id = SEED.datasets.indexing
    const rounds = log = roundLog(replicas, id)
    const subs = subscribe(replicas, connectionParams(mode), statusQuery(id), 20)
    await Promise.all(subs.flat().map(async (sub) => { await sub.received(1) }))

    // Two steps of the indexing heard by everyone, then the holder dies between two polls.
    for (let step = 2; step <= 3; step++) {
      emulator.advance(3000)
      await Promise.all(subs.flat().map(async (sub) => { await sub.received(step) }))
    }
    const { holder, at, poll: lastPoll } = await holderOf(replicas, rounds)
    const survivors = replicas.filter((replica) => replica !== holder)
    const surviving = subs.filter((_list, i) => i !== at).flat()
    const lease = await leaseKey(cluster as TestCluster)
    // Its lease ends at most its next interval (with jitter, 1.1) and half an interval after that poll (or 1.5
    // intervals after a later round's renewal): at most 1.6 intervals from now, under two.
    const left = await (cluster as TestCluster).redis.pttl(lease)
    expect(lastPoll.nextInMs).toBeLessThanOrEqual(INTERVAL * 1.1)
    expect(left).toBeGreaterThan(0)
    expect(left).toBeLessThanOrEqual(Math.ceil(INTERVAL * 1.6))
    const expiry = keyEvents(cluster as TestCluster, 'expired', (key) => `${(cluster as TestCluster).prefix}${key}` === lease)
    await expiry.ready
    const before = await pollsByReplica(survivors)
    const from = rounds.rounds.length
    const takeover = rounds.next('a survivor\'s poll', (round) => round.replica !== at && polled(round))
    await kill(holder)
    await expiry.happened
    await takeover
    expectFollowersWithinAnInterval(rounds, from)
    const after = await pollsByReplica(survivors)
    expect(after.map((n, i) => n - (before[i] ?? 0)).filter((n) => n > 0)).toHaveLength(1)
    expect((await Promise.all(survivors.map(leasesHeld))).sort()).toEqual([0, 1])

    // On to READY, each state once for every subscriber left: a step of the indexing after each poll,
    // until every subscription has ended (the pollers then stop).
    const ended = Promise.all(surviving.map(async (sub) => { await sub.done })).then(() => null)
    const changesFrom = rounds.rounds.length
    for (let step = 0; step < 30; step++) {
      emulator.advance(3000)
      if (await Promise.race([rounds.next('a poll', polled), ended]) === null) break
      // Each change polled is an event for every subscriber left (the three before, then one a change).
      const changes = rounds.polls().filter((round) => rounds.rounds.indexOf(round) >= changesFrom && round.outcome === 'changed').length
      await Promise.all(surviving.map(async (sub) => { await sub.received(3 + changes) }))
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
    const { replicas } = await start(mode)
    const id = SEED.datasets.readySecond
    const rounds = log = roundLog(replicas, id)
    const subs = subscribe(replicas, connectionParams(mode), statusQuery(id, true), 3)
    await Promise.all(subs.flat().map(async (sub) => { await sub.received(1) }))
    const { holder, at } = await holderOf(replicas, rounds)
    const others = replicas.filter((replica) => replica !== holder)
    const before = await pollsByReplica(others)
    const lease = await leaseKey(cluster as TestCluster)
    // Released: Redis deletes the lease (it does not wait for it to expire), and the others are told at once.
    const released = keyEvents(cluster as TestCluster, 'del', (key) => `${(cluster as TestCluster).prefix}${key}` === lease)
    await released.ready
    const from = rounds.rounds.length
    const takeover = rounds.next('another replica\'s poll', (round) => round.replica !== at && polled(round))
    for (const sub of subs[at] ?? []) sub.stop()
    await released.happened
    await takeover
    expectFollowersWithinAnInterval(rounds, from)
    expect([await leasesHeld(holder), holder.app.live.size]).toEqual([0, 0])
    const after = await pollsByReplica(others)
    expect(after.map((n, i) => n - (before[i] ?? 0)).filter((n) => n > 0)).toHaveLength(1)
    expect((await Promise.all(others.map(leasesHeld))).sort()).toEqual([0, 1])
    // The others heard READY once, when they subscribed, and nothing since.
    for (const sub of subs.filter((_list, i) => i !== at).flat()) expect(statesOf(sub)).toEqual([{ id, status: 'READY', progress: 100 }])
  }, 60_000)
})
