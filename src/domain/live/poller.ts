import { GatewayError, isGatewayError } from '../../errors.js'
import type { Credential } from '../../upstream/client.js'
import { Channel } from './channel.js'
import type { PollScheduler } from './scheduler.js'
import type { PollShare, PollSharing, Round } from './share.js'
import { realTime, type LiveTime } from './time.js'

/**
 * One poller watches one upstream resource for one credential scope, for all its subscribers.
 * It fetches, compares with the last value and publishes only a change; a new subscriber gets the
 * last value at once, without an upstream call. While Visual Layer fails it backs off and keeps its
 * subscribers (they hear nothing false); 401, 403 and 404 end them with the matching code. It stops
 * as soon as its last subscriber leaves, and holds no timer once stopped. With a share (several
 * replicas, src/domain/live/share.ts) it polls only while its replica holds the resource's lease, and
 * otherwise delivers the changes another replica polled, with the same dedupe.
 *
 * Adaptive interval: a resource in motion (`moving`) or that just changed is polled every `intervalMs`;
 * each poll that finds it settled and unchanged doubles the interval, up to `maxIntervalMs`. A write
 * through the gateway (`wake`: a poll at once) or a change seen elsewhere (`hurry`: the next poll within
 * `intervalMs`) brings it back to the fast interval. With a share, the lease holder's interval decides.
 */

/** Where a poller reports its failures (the app's pino logger fits). */
export interface WarnLog {
  warn: (details: object, message: string) => void
}

/** What one poll of Visual Layer gave: a new value, the same one, or a failure. */
export type PollOutcome = 'changed' | 'unchanged' | 'error'

export interface PollerOptions<T> {
  readonly key: string
  readonly fetch: (credential: Credential, signal: AbortSignal) => Promise<T>
  readonly same: (a: T, b: T) => boolean
  /** The fast interval: between the polls of a resource in motion. */
  readonly intervalMs: number
  /**
   * The ceiling of a settled resource's interval: each poll that finds it settled and unchanged
   * doubles the interval, up to this (at least `intervalMs`; `intervalMs` when absent: no slowing down).
   */
  readonly maxIntervalMs?: number
  /** Whether a polled value is in motion (a dataset indexing, a task running): polled at the fast interval. Absent: always. */
  readonly moving?: (value: T) => boolean
  readonly maxBackoffMs: number
  readonly scheduler: PollScheduler
  /** The poller's caller (credential scope) now, for its share of the poll ceiling; it may change (passthrough proof). */
  readonly scope: () => string
  readonly log: WarnLog
  /** Called once, when the poller has stopped. */
  readonly onStop: () => void
  /** Called after each successful poll, with the credential it used (its scope may have changed). */
  readonly onPolled?: (credential: Credential) => void
  /** Told of every poll that ran to its end (metrics). */
  readonly onPoll?: (outcome: PollOutcome) => void
  /** Told at the end of each round, as the poller goes to sleep for `nextInMs` ('followed': another replica polled). */
  readonly onRound?: (outcome: PollOutcome | 'followed', nextInMs: number) => void
  /** The clock and timers it waits on; the process's own by default. */
  readonly time?: LiveTime
  /** Shares the polling with other replicas, under `key` (see moveShare). */
  readonly sharing?: PollSharing
  /** The dataset the watched resource belongs to (the share's states go stale on a write to it). */
  readonly datasetId: string
  /** Told of each change after the first value, polled here or heard from another replica (the registry hurries the dataset's other pollers). */
  readonly onChange?: () => void
}

interface Watcher<T> {
  readonly credential: Credential
  /** The subscriber's token expiry (ms), or null: the poller polls with a credential still valid. */
  readonly expiresAt: number | null
  readonly channel: Channel<T>
  /** What this subscriber was last sent; compared only for subscribers moved in from another poller. */
  last: { readonly value: T } | null
  /** Takes the subscriber off the poller that holds it now. */
  leave: () => void
}

const ENDING: ReadonlySet<string> = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND'])
const POLL: Round = { poll: true }

export class Poller<T> {
  private readonly watchers = new Set<Watcher<T>>()
  private latest: { value: T } | null = null
  private readonly stopping = new AbortController()
  private wakeUp: (() => void) | null = null
  /** Woken while not sleeping (a write while a poll was on its way): the next sleep is skipped. */
  private woken = false
  /** Polls in a row that found the resource settled and unchanged: the interval is `intervalMs` × 2^calm, up to the ceiling. */
  private calm = 0
  /** Hurried while not sleeping: the poll on its way does not count as calm. */
  private hurried = false
  /** The sleep under way: when it ends on `time`, and how to end it sooner. */
  private nap: { readonly until: number, readonly rearm: (ms: number) => void } | null = null
  private started = false
  private share: PollShare<T> | null = null
  private readonly time: LiveTime

  constructor (private readonly options: PollerOptions<T>) {
    this.time = options.time ?? realTime
    this.moveShare(options.key)
  }

  /** Shares the polling under `key` from now on (a passthrough poller moves to its subject's key once proven). */
  moveShare (key: string): void {
    this.share?.leave()
    this.share = this.options.sharing?.(key, {
      hear: (value: T) => { this.receive(value) },
      wake: () => { this.wake() },
      hurry: () => { this.hurryHere() }
    }, this.options.datasetId) ?? null
  }

  get stopped (): boolean {
    return this.stopping.signal.aborted
  }

  /** A subscription: the last value at once when there is one, then every change. */
  watch (credential: Credential, expiresAt: number | null): Channel<T> {
    const watcher: Watcher<T> = {
      credential,
      expiresAt,
      channel: new Channel<T>(() => { watcher.leave() }),
      last: null,
      leave: () => {}
    }
    this.admit(watcher)
    return watcher.channel
  }

  /**
   * Takes over every subscriber of `other` (same resource, and a scope they may now share), which
   * then stops. Each hears the next value only if it differs from the last one `other` sent it.
   */
  adopt (other: Poller<T>): void {
    for (const watcher of [...other.watchers]) {
      other.watchers.delete(watcher)
      this.admit(watcher)
    }
    other.wake()
  }

  private admit (watcher: Watcher<T>): void {
    watcher.leave = () => {
      this.watchers.delete(watcher)
      if (this.watchers.size === 0) this.wake()
    }
    this.watchers.add(watcher)
    if (this.latest !== null) this.deliver(watcher, this.latest, null)
    if (!this.started) {
      this.started = true
      void this.run()
    }
  }

  /** Sends `next` unless the subscriber already has that value; `previous` is known to differ from it. */
  private deliver (watcher: Watcher<T>, next: { readonly value: T }, previous: { readonly value: T } | null): void {
    if (watcher.last !== null && watcher.last !== previous && this.options.same(watcher.last.value, next.value)) return
    watcher.last = next
    watcher.channel.push(next.value)
  }

  /** Poll now instead of at the end of the interval (after a write to the resource), and at the fast interval from then on. */
  wake (): void {
    this.calm = 0
    this.hurried = true
    const wakeUp = this.wakeUp
    this.wakeUp = null
    if (wakeUp === null) this.woken = true
    else wakeUp()
  }

  /**
   * The resource may move (another resource of its dataset changed): back to the fast interval, the
   * next poll within `intervalMs`. With a share whose lease another replica holds, that replica is told.
   */
  hurry (): void {
    this.hurryHere()
    this.share?.hurry()
  }

  private hurryHere (): void {
    this.calm = 0
    const nap = this.nap
    if (nap === null) {
      this.hurried = true
      return
    }
    const fast = this.jitter(this.options.intervalMs)
    if (nap.until - this.time.now() > fast) nap.rearm(fast)
  }

  /** Ends every subscription normally and stops (app shutdown). */
  stop (): void {
    for (const watcher of [...this.watchers]) watcher.channel.end()
    this.halt()
  }

  private halt (): void {
    if (this.stopping.signal.aborted) return
    this.stopping.abort()
    // At once, not when the loop notices: app shutdown releases the lease before the Redis link closes.
    this.share?.leave()
    this.wake()
  }

  private async run (): Promise<void> {
    let failures = 0
    try {
      while (this.watchers.size > 0 && !this.stopped) {
        const credential = this.credential()
        if (credential === null) {
          this.endAll(new GatewayError('UNAUTHENTICATED', 'Every subscriber\'s token has expired: subscribe again with a fresh token.'))
          break
        }
        const share = this.share
        const round = share === null ? POLL : await share.round()
        if (this.watchers.size === 0 || this.stopped) break
        if (!round.poll) {
          // Another replica polls: its changes arrive through the share meanwhile.
          this.options.onRound?.('followed', round.retryInMs)
          await this.sleep(round.retryInMs)
          continue
        }
        let polled: T | null = null
        let outcome: PollOutcome = 'error'
        let startedAt = this.time.now()
        try {
          await this.options.scheduler.turn(this.stopping.signal, this.options.scope())
          startedAt = this.time.now()
          const value = await this.options.fetch(credential, this.stopping.signal)
          failures = 0
          polled = value
          outcome = this.receive(value) ? 'changed' : 'unchanged'
          this.calm = outcome === 'changed' || this.hurried || (this.options.moving?.(value) ?? true) ? 0 : Math.min(this.calm + 1, 30)
          this.hurried = false
          this.options.onPoll?.(outcome)
          this.options.onPolled?.(credential)
        } catch (err) {
          if (this.stopped) break
          this.options.onPoll?.('error')
          if (isGatewayError(err) && ENDING.has(err.code)) {
            this.endAll(err)
            break
          }
          failures++
          this.options.log.warn({
            poller: this.options.key,
            failures,
            code: isGatewayError(err) ? err.code : 'INTERNAL_SERVER_ERROR'
          }, 'poll failed; backing off')
        }
        if (this.watchers.size === 0) break
        const delay = this.delay(failures)
        // Without a share the round ends in the same turn as the poll: a listener to onRound finds the poller asleep.
        if (share !== null) {
          await share.polled(polled, delay, startedAt)
          if (this.watchers.size === 0 || this.stopped) break
        }
        this.options.onRound?.(outcome, delay)
        await this.sleep(delay)
      }
    } finally {
      this.halt()
      this.options.onStop()
    }
  }

  /** A value polled here or by another replica: delivered to every subscriber if it differs from the last. */
  private receive (value: T): boolean {
    if (this.latest !== null && this.options.same(this.latest.value, value)) return false
    const previous = this.latest
    this.latest = { value }
    for (const watcher of this.watchers) this.deliver(watcher, this.latest, previous)
    if (previous !== null) this.options.onChange?.()
    return true
  }

  /**
   * The next interval, with ±10 % jitter so that pollers started together do not stay in step: the
   * fast one while in motion, doubled by each calm poll up to the ceiling (which jitter never passes),
   * longer while failing.
   */
  private delay (failures: number): number {
    const { intervalMs, maxBackoffMs } = this.options
    if (failures > 0) return this.jitter(Math.min(maxBackoffMs, intervalMs * 2 ** failures))
    if (this.calm === 0) return this.jitter(intervalMs)
    const ceiling = Math.max(intervalMs, this.options.maxIntervalMs ?? intervalMs)
    return Math.min(ceiling, this.jitter(Math.min(ceiling, intervalMs * 2 ** this.calm)))
  }

  private jitter (ms: number): number {
    return Math.round(ms * (0.9 + Math.random() * 0.2))
  }

  private async sleep (ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false
      return
    }
    await new Promise<void>((resolve) => {
      let cancel = (): void => {}
      const done = (): void => {
        cancel()
        this.wakeUp = null
        this.nap = null
        resolve()
      }
      const arm = (after: number): void => {
        cancel()
        cancel = this.time.after(after, done)
        this.nap = { until: this.time.now() + after, rearm: arm }
      }
      arm(ms)
      this.wakeUp = done
    })
  }

  /** A credential of a current subscriber whose token is still valid, the longest-lived first. */
  private credential (): Credential | null {
    const now = Date.now()
    let best: Watcher<T> | null = null
    for (const watcher of this.watchers) {
      if (watcher.expiresAt !== null && watcher.expiresAt <= now) continue
      if (best === null || (best.expiresAt !== null && (watcher.expiresAt === null || watcher.expiresAt > best.expiresAt))) best = watcher
    }
    return best?.credential ?? null
  }

  private endAll (error: GatewayError): void {
    for (const watcher of [...this.watchers]) watcher.channel.fail(error)
  }
}
