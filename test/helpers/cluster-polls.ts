import type { PollRoundMessage } from '../../src/domain/live/events.js'
import type { TestGateway } from './gateway.js'
import { nextEvent, onChannel, when, whenAsked } from './wait.js'

/*
 * What the pollers of a test cluster did, from their events (src/domain/live/events.ts; every replica
 * runs in the test's process): each round a replica's poller of a dataset ended, whether it polled or
 * followed another replica, and when; how many dataset polls each replica made (its own
 * vlgw_live_polls_total), and how many poll leases it holds (vlgw_live_leases_held).
 */

export interface Round {
  /** The replica's index in the cluster's list. */
  readonly replica: number
  /** The poller's key: `<kind> <scope> <id>` (kind `dataset` or `tasks`). */
  readonly key: string
  readonly outcome: PollRoundMessage['outcome']
  /** How long the poller then sleeps (its LiveTime). */
  readonly nextInMs: number
  /** performance.now() when the round ended: in the poller's own process, as it happened. */
  readonly at: number
}

export interface RoundLog {
  /** Every round of the dataset's pollers from the log's start, in order. */
  readonly rounds: Round[]
  /** The rounds that polled (not `followed`). */
  readonly polls: () => Round[]
  /** Resolves with the next round (from now on) that `match` accepts. */
  next: (what: string, match: (round: Round) => boolean, timeoutMs?: number) => Promise<Round>
  close: () => void
}

const roundEvents = onChannel<PollRoundMessage>('visual-layer:live:round')

/** Logs the rounds of the pollers of dataset `datasetId` on these replicas from now on. */
export function roundLog (replicas: readonly TestGateway[], datasetId: string): RoundLog {
  const rounds: Round[] = []
  const listeners = new Set<(round: Round) => void>()
  const stop = roundEvents((m) => {
    if (m.datasetId !== datasetId) return
    const replica = replicas.findIndex((gw) => gw.app.live === m.registry)
    if (replica < 0) return
    const round: Round = { replica, key: m.key, outcome: m.outcome, nextInMs: m.nextInMs, at: performance.now() }
    rounds.push(round)
    for (const listener of [...listeners]) listener(round)
  })
  return {
    rounds,
    polls: () => rounds.filter((round) => round.outcome !== 'followed'),
    next: async (what, match, timeoutMs) => await nextEvent(what, (listener) => {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    }, match, timeoutMs),
    close: stop
  }
}

/** Dataset polls this replica has made so far. */
export async function datasetPollsBy (replica: TestGateway): Promise<number> {
  const { values } = await replica.app.metrics.polls.get()
  return values.filter((value) => value.labels.resource === 'dataset').reduce((sum, value) => sum + value.value, 0)
}

/** Poll leases this replica holds now. */
export async function leasesHeld (replica: TestGateway): Promise<number> {
  const gauge = replica.app.metrics.registry.getSingleMetric('vlgw_live_leases_held')
  if (gauge === undefined) throw new Error('no vlgw_live_leases_held gauge')
  return (await gauge.get()).values[0]?.value ?? 0
}

/** Each replica's dataset polls so far, in replica order. */
export async function pollsByReplica (replicas: readonly TestGateway[]): Promise<number[]> {
  return await Promise.all(replicas.map(datasetPollsBy))
}

/** The status subscription the live cluster tests follow. */
export const statusQuery = (id: string, follow = false): string =>
  `subscription { datasetStatusChanged(datasetId: "${id}", follow: ${String(follow)}) { id status progress } }`
export type StatusEvent = { datasetStatusChanged: { id: string, status: string, progress: number | null } }

/** A listener on the rounds of every poller of these replicas (leases move at rounds), for when and whenAsked. */
export const anyRound = (replicas: readonly TestGateway[]) => (listener: (message: PollRoundMessage) => void): () => void =>
  roundEvents((m) => { if (replicas.some((gw) => gw.app.live === m.registry)) listener(m) })

/** Resolves once these replicas hold `count` poll leases in all: asked now and after each round of their pollers. */
export async function leasesInAll (replicas: readonly TestGateway[], count: number, timeoutMs?: number): Promise<void> {
  await whenAsked(`${count} leases held in all`, anyRound(replicas),
    async () => (await Promise.all(replicas.map(leasesHeld))).reduce((sum, n) => sum + n, 0) === count, timeoutMs)
}

/** Resolves once `count` more polls are in `log` than `from` (every replica's), waiting for each. */
export async function pollsLogged (log: RoundLog, from: number, count: number, timeoutMs?: number): Promise<void> {
  await when(`${count} polls`, (listener) => {
    const stop = roundEvents(listener)
    return stop
  }, () => log.polls().length >= from + count, timeoutMs)
}

/** Whether each replica polled over the next `count` polls of the logged dataset. */
export async function pollersOver (replicas: readonly TestGateway[], log: RoundLog, count: number): Promise<boolean[]> {
  const from = log.polls().length
  await pollsLogged(log, from, count)
  const polls = log.polls().slice(from)
  return replicas.map((_replica, i) => polls.some((round) => round.replica === i))
}

/**
 * Resolves once `linked(replica)` holds (or, with `up` false, no longer holds) for each: asked now
 * and on each change of their Redis connections and each line they log (the link logs an outage's start and end).
 */
export async function linkedAll (replicas: readonly TestGateway[], linked: (replica: TestGateway) => boolean, up = true, timeoutMs?: number): Promise<void> {
  await when(up ? 'every replica linked to Redis' : 'no replica linked to Redis', (listener) => {
    const stops = replicas.flatMap((replica) => {
      const link = replica.app.redis
      const connections = link === null ? [] : [link.commands, link.pubsub()]
      const onChange = (): void => { listener(undefined) }
      for (const connection of connections) for (const name of ['ready', 'close', 'end']) connection.on(name, onChange)
      const unwatch = replica.logs.watch(listener)
      return [() => { for (const connection of connections) for (const name of ['ready', 'close', 'end']) connection.off(name, onChange) }, unwatch]
    })
    return () => { for (const stop of stops) stop() }
  }, () => replicas.every((replica) => linked(replica) === up), timeoutMs)
}
