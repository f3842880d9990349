import { GraphQLError, type ExecutionResult } from 'graphql'
import { GatewayError } from '../errors.js'

/** setTimeout fires at once for a delay above this (about 24.8 days): longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1

const DONE: IteratorResult<ExecutionResult> = Object.freeze({ value: undefined, done: true })

/**
 * Passes a subscription's results through until the caller's token expires, then gives one
 * UNAUTHENTICATED result and ends. Not an async generator: a generator's return() waits for its
 * pending next(), so a client leaving a quiet subscription would keep its poller polling and its
 * connection counted until the next event. Here return() and expiry reach the source at once.
 */
/**
 * One timer for every subscription made with one token (a WebSocket connection holds one): at 10,000
 * subscriptions a timer each was 10,000 timers. It is armed while somebody waits, and fires them all.
 */
export class Expiry {
  private readonly waiting = new Set<() => void>()
  private timer: NodeJS.Timeout | undefined

  constructor (readonly expiresAt: number, private readonly now: () => number = Date.now) {}

  /** Calls `onExpired` once when the token expires (at once if it has); returns how to stop waiting. */
  watch (onExpired: () => void): () => void {
    this.waiting.add(onExpired)
    if (this.timer === undefined) this.arm()
    return () => {
      this.waiting.delete(onExpired)
      if (this.waiting.size === 0) this.disarm()
    }
  }

  private readonly arm = (): void => {
    const left = this.expiresAt - this.now()
    if (left > 0) {
      this.timer = setTimeout(this.arm, Math.min(left, MAX_TIMER_MS))
      return
    }
    this.timer = undefined
    const expired = [...this.waiting]
    this.waiting.clear()
    for (const onExpired of expired) onExpired()
  }

  private disarm (): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }
}

export function endAtExpiry (
  source: AsyncIterator<ExecutionResult>,
  expiry: number | Expiry,
  now: () => number = Date.now
): AsyncIterableIterator<ExecutionResult> {
  let state: 'open' | 'expired' | 'done' = 'open'
  // Wakes the pending next(), if any, when the token expires or return() is called. A fresh promise
  // for each next(): racing every event against one long-lived promise left a reaction on it per event.
  let wake: (() => void) | null = null
  const interrupt = (): void => { wake?.() }
  let unwatch: () => void = () => {}
  const close = (): void => {
    if (state === 'done') return
    const wasOpen = state === 'open'
    state = 'done'
    unwatch()
    interrupt()
    if (wasOpen) void source.return?.()
  }
  unwatch = (typeof expiry === 'number' ? new Expiry(expiry, now) : expiry).watch(() => {
    if (state !== 'open') return
    state = 'expired'
    interrupt()
    // Polling stops at expiry, not when the consumer next reads.
    void source.return?.()
  })

  const iterator: AsyncIterableIterator<ExecutionResult> = {
    async next () {
      if (state === 'open') {
        let next: IteratorResult<ExecutionResult> | 'interrupted'
        const interrupted = new Promise<'interrupted'>((resolve) => { wake = () => { resolve('interrupted') } })
        try {
          next = await Promise.race([source.next(), interrupted])
        } catch (err) {
          close()
          throw err
        } finally {
          wake = null
        }
        if (next !== 'interrupted' && state === 'open') {
          if (next.done !== true) return next
          close()
          return DONE
        }
      }
      if (state === 'expired') {
        state = 'done'
        const error = new GatewayError('UNAUTHENTICATED', 'Your token expired, so this subscription ended: subscribe again with a fresh token.')
        return { value: { errors: [new GraphQLError(error.message, { originalError: error })] }, done: false }
      }
      return DONE
    },
    async return () {
      close()
      return DONE
    },
    [Symbol.asyncIterator] () { return iterator }
  }
  return iterator
}
