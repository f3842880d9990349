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
 * subscriptions a timer each would be 10,000 timers. It is armed while somebody waits, and fires them all.
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
  return new ExpiringResults(source, typeof expiry === 'number' ? new Expiry(expiry, now) : expiry)
}

/**
 * A class, with one pending promise while a read waits, rather than an async function racing the
 * source against an interrupt: at 10,000 quiet subscriptions the race's promises, reactions and
 * suspended frames would take a kilobyte each.
 */
class ExpiringResults implements AsyncIterableIterator<ExecutionResult> {
  private state: 'open' | 'expired' | 'done' = 'open'
  /** Settles the read that is waiting on the source, if any: expiry and return() settle it at once. */
  private waiting: ((result: IteratorResult<ExecutionResult>) => void) | null = null
  private readonly unwatch: () => void

  constructor (private readonly source: AsyncIterator<ExecutionResult>, expiry: Expiry) {
    this.unwatch = expiry.watch(() => { this.expire() })
  }

  next (): Promise<IteratorResult<ExecutionResult>> {
    if (this.state !== 'open') return Promise.resolve(this.ending())
    return new Promise((resolve, reject) => {
      this.waiting = resolve
      this.source.next().then((next) => {
        // Settled already by expiry or return(): what the source gives now is dropped.
        if (this.waiting !== resolve) return
        this.waiting = null
        if (next.done !== true) {
          resolve(next)
          return
        }
        this.close()
        resolve(DONE)
      }, (err: unknown) => {
        if (this.waiting !== resolve) return
        this.waiting = null
        this.close()
        reject(err)
      })
    })
  }

  async return (): Promise<IteratorResult<ExecutionResult>> {
    this.close()
    return DONE
  }

  [Symbol.asyncIterator] (): AsyncIterableIterator<ExecutionResult> {
    return this
  }

  /** What a read gets once the source is left: the UNAUTHENTICATED result once after expiry, then done. */
  private ending (): IteratorResult<ExecutionResult> {
    if (this.state !== 'expired') return DONE
    this.state = 'done'
    const error = new GatewayError('UNAUTHENTICATED', 'Your token expired, so this subscription ended: subscribe again with a fresh token.')
    return { value: { errors: [new GraphQLError(error.message, { originalError: error })] }, done: false }
  }

  private expire (): void {
    if (this.state !== 'open') return
    this.state = 'expired'
    this.settleWaiting()
    // Polling stops at expiry, not when the consumer next reads.
    void this.source.return?.()
  }

  private close (): void {
    if (this.state === 'done') return
    const wasOpen = this.state === 'open'
    this.state = 'done'
    this.unwatch()
    this.settleWaiting()
    if (wasOpen) void this.source.return?.()
  }

  private settleWaiting (): void {
    const waiting = this.waiting
    this.waiting = null
    waiting?.(this.ending())
  }
}
