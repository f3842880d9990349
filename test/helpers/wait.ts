import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { CallRecord, RunningEmulator } from '../../src/emulator/index.js'
import { matchesGlob } from '../../src/emulator/glob.js'
import type { ConnectionEndedMessage, HeldDoor } from '../../src/transports/events.js'

/*
 * Waiting for events, never for time (graphql-ws' waitForMessage is the model): each helper is a
 * promise that resolves on the next event that matches, and fails the test with what it waited for
 * when none comes before its deadline. A deadline only catches a test that would hang: it is long,
 * and a busy machine never reaches it.
 */

export const DEADLINE_MS = 10_000

/**
 * Resolves with the first event `listen` reports that `match` accepts (from now on). `listen` starts
 * listening and returns the function that stops; `what` names the event in the failure.
 */
export async function nextEvent<E> (
  what: string,
  listen: (listener: (event: E) => void) => () => void,
  match: (event: E) => boolean = () => true,
  timeoutMs = DEADLINE_MS
): Promise<E> {
  return await new Promise<E>((resolve, reject) => {
    const stop = listen((event) => {
      if (!match(event)) return
      finish()
      resolve(event)
    })
    const timer = setTimeout(() => {
      finish()
      reject(new Error(`no ${what} within ${timeoutMs} ms`))
    }, timeoutMs)
    function finish (): void {
      clearTimeout(timer)
      stop()
    }
  })
}

/** Resolves when `check()` holds, checked now and again on each event `listen` reports. */
export async function when<E> (
  what: string,
  listen: (listener: (event: E) => void) => () => void,
  check: () => boolean,
  timeoutMs = DEADLINE_MS
): Promise<void> {
  if (check()) return
  await nextEvent(what, listen, () => check(), timeoutMs)
}

/**
 * `when` for a check that must ask (a metric's value, Redis): resolves once `check()` resolves true,
 * asked now and again after each event `listen` reports (one ask at a time; events during an ask ask once more).
 */
export async function whenAsked<E> (
  what: string,
  listen: (listener: (event: E) => void) => () => void,
  check: () => Promise<boolean>,
  timeoutMs = DEADLINE_MS
): Promise<void> {
  if (await check()) return
  await new Promise<void>((resolve, reject) => {
    let asking = false
    let again = false
    let done = false
    const ask = async (): Promise<void> => {
      if (asking) {
        again = true
        return
      }
      asking = true
      try {
        do {
          again = false
          if (await check()) {
            finish()
            resolve()
            return
          }
        } while (again && !done)
      } catch (err) {
        finish()
        reject(err instanceof Error ? err : new Error(String(err)))
      } finally {
        asking = false
      }
    }
    const stop = listen(() => { if (!done) void ask() })
    const timer = setTimeout(() => {
      finish()
      reject(new Error(`no ${what} within ${timeoutMs} ms`))
    }, timeoutMs)
    function finish (): void {
      done = true
      clearTimeout(timer)
      stop()
    }
    // An event may have come between the first ask and listening.
    void ask()
  })
}

/** A listener on a node:diagnostics_channel channel, for nextEvent. */
export const onChannel = <M>(name: string) => (listener: (message: M) => void): () => void => {
  const handler = (message: unknown): void => { listener(message as M) }
  subscribe(name, handler)
  return () => { unsubscribe(name, handler) }
}

/** The next `/api/v1` call the emulator receives (`arrived`) or answers (`answered`) that matches. */
export async function nextCall (
  emulator: RunningEmulator,
  { method, path, phase = 'answered', status }: { method?: string, path: string, phase?: 'arrived' | 'answered', status?: number },
  timeoutMs?: number
): Promise<CallRecord> {
  const what = `${method ?? 'call'} ${path} ${phase}${status === undefined ? '' : ` with ${status}`}`
  return await nextEvent<{ call: CallRecord, phase: string }>(
    what,
    (listener) => emulator.onCall((call, happened) => { listener({ call, phase: happened }) }),
    ({ call, phase: happened }) => happened === phase && (method === undefined || call.method === method) && matchesGlob(path, call.path) && (status === undefined || call.status === status),
    timeoutMs
  ).then(({ call }) => call)
}

/** Resolves once the emulator has received `count` calls matching, counting those already logged. */
export async function callsArrived (emulator: RunningEmulator, filter: { method?: string, path: string }, count: number, timeoutMs?: number): Promise<void> {
  const seen = (): number => emulator.calls(filter).length
  await when(`${count} calls ${filter.method ?? ''} ${filter.path}`, (listener) => emulator.onCall(listener), () => seen() >= count, timeoutMs)
}

export interface EventCounter {
  /** Call on each event the subscription receives. */
  tell: () => void
  /**
   * Resolves once `count()` reaches `count`; fails when `done` (the subscription's end) settles
   * first, saying how it ended, or at the deadline.
   */
  received: (what: string, count: () => number, wanted: number, done: Promise<void>, timeoutMs?: number) => Promise<void>
}

/** What a recorded subscription (WebSocket, SSE) waits on for its events. */
export function eventCounter (): EventCounter {
  const listeners = new Set<(event: undefined) => void>()
  return {
    tell: () => { for (const listener of [...listeners]) listener(undefined) },
    received: async (what, count, wanted, done, timeoutMs) => {
      const arrived = when<undefined>(what, (listener) => {
        listeners.add(listener)
        return () => { listeners.delete(listener) }
      }, () => count() >= wanted, timeoutMs)
      const ended = done.then(() => 'completed', (err: unknown) => `ended with ${JSON.stringify(err)}`).then((how) => {
        if (count() < wanted) throw new Error(`the subscription ${how} after ${count()} events, before ${what}`)
      })
      await Promise.race([arrived, ended.then(async () => { await arrived })])
    }
  }
}

/** The next connection a door of the gateway serving on `server` (its app.server) lets go of, that `match` accepts (src/transports/events.ts). */
export async function connectionEnd (
  server: object,
  door: HeldDoor,
  match: (message: ConnectionEndedMessage) => boolean = () => true,
  timeoutMs?: number
): Promise<ConnectionEndedMessage> {
  return await nextEvent(`the end of a ${door} connection`, onChannel<ConnectionEndedMessage>('visual-layer:transports:ended'),
    (m) => m.server === server && m.door === door && match(m), timeoutMs)
}
