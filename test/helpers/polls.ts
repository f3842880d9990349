import { setImmediate } from 'node:timers/promises'
import type { PollerStoppedMessage, PollRoundMessage } from '../../src/domain/live/events.js'
import type { TestGateway } from './gateway.js'
import type { ManualTime } from './manual-time.js'
import { nextEvent, onChannel, when } from './wait.js'

/**
 * Waiting for polls instead of for time: a gateway given a ManualTime (BuildOptions.liveTime) polls
 * when the test moves that time, and each poller's round and stop is an event on
 * node:diagnostics_channel (src/domain/live/events.ts) that these helpers wait for.
 */

/** Upstream GETs of one dataset so far: how many times its pollers polled it. */
export const getsOf = (gw: TestGateway, id: string): number =>
  gw.emulator.calls().filter((c) => c.method === 'GET' && c.path === `/api/v1/dataset/${id}`).length

/** The live status events of a gateway's pollers (its registry's), on node:diagnostics_channel. */
const rounds = onChannel<PollRoundMessage>('visual-layer:live:round')
const stops = onChannel<PollerStoppedMessage>('visual-layer:live:stopped')

/** The next round a poller of dataset `id` in `gw` ends (it polled, or followed another replica, and now sleeps). */
export async function nextRound (gw: TestGateway, id: string, timeoutMs?: number): Promise<PollRoundMessage> {
  return await nextEvent(`poll round of dataset ${id}`, rounds, (m) => m.registry === gw.app.live && m.datasetId === id, timeoutMs)
}

/** Resolves when a poller of dataset `id` in `gw` stops. */
export async function pollerStopped (gw: TestGateway, id: string, timeoutMs?: number): Promise<void> {
  await nextEvent(`stop of the poller of dataset ${id}`, stops, (m) => m.registry === gw.app.live && m.datasetId === id, timeoutMs)
}

/** What the poller of dataset `id` in `gw` does next: ends a round (the message), or stops (null). */
export async function nextTurn (gw: TestGateway, id: string, timeoutMs?: number): Promise<PollRoundMessage | null> {
  type Turn = { round: PollRoundMessage } | { stopped: PollerStoppedMessage }
  const turn = await nextEvent<Turn>(`poll round or stop of dataset ${id}`, (listener) => {
    const a = rounds((round) => { listener({ round }) })
    const b = stops((stopped) => { listener({ stopped }) })
    return () => { a(); b() }
  }, (t) => {
    const m = 'round' in t ? t.round : t.stopped
    return m.registry === gw.app.live && m.datasetId === id
  }, timeoutMs)
  return 'round' in turn ? turn.round : null
}

/**
 * The poller of dataset `id`, asleep on `time` (the only timer set), polls now: time moves to its
 * timer, and this resolves once the round it started has ended (the poller asleep again), or with
 * null when the poller stopped instead (its last subscriber left meanwhile).
 */
export async function pollNow (gw: TestGateway, time: ManualTime, id: string): Promise<PollRoundMessage | null> {
  if (time.pending !== 1) throw new Error(`pollNow expects the poller's timer alone, and ${time.pending} are set`)
  time.runNext()
  return await nextTurn(gw, id)
}

/** Resolves once `gw` runs no poller (each stopped). */
export async function allPollersStopped (gw: TestGateway, timeoutMs?: number): Promise<void> {
  await when('every poller to stop', stops, () => gw.app.live.size === 0, timeoutMs)
}

export interface TurnCount {
  /** Rounds the pollers of `gw` have ended, and stops, since the count began. */
  readonly count: number
  close: () => void
}

/** Counts the rounds the pollers of `gw` end after a poll, and their stops, from now on: each poll ends in one or the other. */
export function countTurns (gw: TestGateway): TurnCount {
  let count = 0
  // A round that only followed another replica's polls was granted no turn.
  const a = rounds((m) => { if (m.registry === gw.app.live && m.outcome !== 'followed') count++ })
  const b = stops((m) => { if (m.registry === gw.app.live) count++ })
  return { get count () { return count }, close: () => { a(); b() } }
}

/**
 * Resolves once every poll granted under the poll ceiling since `turns` began (`gw.app.live.turnsGranted`
 * was `grantedBefore` then) has ended its round or stopped its poller: what a step of ManualTime set
 * off has run its course. The microtasks it queued run first (a poller woken by a timer asks for its
 * turn in one of them). A poller that stops while asleep counts too, so this may resolve early after one.
 */
export async function pollsSettled (gw: TestGateway, turns: TurnCount, grantedBefore = 0): Promise<void> {
  await setImmediate()
  await when('the granted polls to end their rounds', (listener) => {
    const a = rounds(listener)
    const b = stops(listener)
    return () => { a(); b() }
  }, () => turns.count >= gw.app.live.turnsGranted - grantedBefore)
}

/**
 * Moves `time` from one timer to the next, each step once every poll granted so far has ended (see
 * pollsSettled), until `done()` holds (checked between steps). Before the first timer is set (no
 * poller asleep yet), it waits for the next round instead.
 */
export async function stepUntil (gw: TestGateway, time: ManualTime, turns: TurnCount, done: () => boolean, grantedBefore = 0, maxSteps = 10_000): Promise<void> {
  await pollsSettled(gw, turns, grantedBefore)
  for (let step = 0; !done(); step++) {
    if (step >= maxSteps) throw new Error(`not done after ${maxSteps} steps of time`)
    if (time.pending === 0) await nextEvent('a poll round', rounds, (m) => m.registry === gw.app.live)
    else time.runNext()
    await pollsSettled(gw, turns, grantedBefore)
  }
}

/**
 * Resolves once a poller waits on `time` (a timer is set): checked now and after each round `gw`'s
 * pollers end (in a microtask: a poller sets its timer just after it tells of its round).
 */
export async function asleep (gw: TestGateway, time: ManualTime, timeoutMs?: number): Promise<void> {
  await when('a poller asleep on its time', (listener) => rounds((m) => {
    if (m.registry === gw.app.live) queueMicrotask(() => { listener(m) })
  }), () => time.pending > 0, timeoutMs)
}
