import { LRUCache } from 'lru-cache'
import { CircuitBreaker, type BreakerState } from './circuit-breaker.js'

/*
 * What a failure of Visual Layer says depends on who met it where: timeouts on one account's datasets
 * say those datasets (or that account) are slow, not that Visual Layer is down for everyone. So a
 * call passes two breakers:
 * - its own, one per (principal, route): the account a call is made as (the API key a caller's token
 *   claims, or the service account) and the route template (`GET /api/v1/dataset/{dataset_id}`). It
 *   opens on that pair's failures in a row alone, and refuses only that pair's calls.
 * - the shared one, which refuses every call: it opens only when failures in a row (no success in
 *   between, from anyone) reach the threshold and span `spreadPrincipals` principals, or include a
 *   call that concerns everyone (the service account's, or the health check's).
 * The claimed API key is not verified, but a forged token cannot make Visual Layer slow for another
 * account's resources: Visual Layer answers it 401 at once, which says Visual Layer is up.
 */

export interface BreakerSettings {
  /** Failures in a row after which a breaker opens. */
  readonly threshold: number
  readonly cooldownMs: number
  /** Most (principal, route) breakers kept, least recently used first out (a forgotten one starts closed). */
  readonly maxScoped: number
  /** Distinct principals the failures in a row must span before the shared breaker opens. */
  readonly spreadPrincipals: number
}

/** What the caller of `admit` tells once the try ended. */
export type Verdict = 'failed' | 'succeeded' | 'released'

export type Admission =
  | { readonly admitted: true, readonly verdict: (verdict: Verdict) => void }
  | { readonly admitted: false, readonly retryInMs: number, readonly scoped: boolean }

/** A principal that every caller depends on: its failures alone say Visual Layer is down. */
export const SHARED_PRINCIPALS: ReadonlySet<string> = new Set(['service', 'none'])

export class Breakers {
  private readonly shared: CircuitBreaker
  private readonly scoped: LRUCache<string, CircuitBreaker>
  /** Principals whose tries failed since the last success anywhere, and how many tries failed. */
  private streak = new Set<string>()
  private streakFailures = 0

  constructor (private readonly settings: BreakerSettings, private readonly now: () => number = () => performance.now()) {
    // Opened by this class's decision only (a failure that meets the rule above): hence a threshold of 1.
    this.shared = new CircuitBreaker(1, settings.cooldownMs, now)
    this.scoped = new LRUCache({ max: settings.maxScoped })
  }

  /** The shared breaker's state: whether Visual Layer counts as down for everyone. */
  get state (): BreakerState {
    return this.shared.state
  }

  /** (principal, route) breakers kept, and how many of them refuse calls now. */
  get scopedCount (): number {
    return this.scoped.size
  }

  get scopedOpen (): number {
    let open = 0
    for (const breaker of this.scoped.values()) if (breaker.state === 'open') open++
    return open
  }

  admit (principal: string, route: string): Admission {
    // Open for everyone: refused as such, without touching the call's own breaker.
    if (this.shared.state === 'open') return { admitted: false, retryInMs: this.shared.retryInMs, scoped: false }
    const key = `${principal} ${route}`
    let own = this.scoped.get(key)
    if (own === undefined) this.scoped.set(key, own = new CircuitBreaker(this.settings.threshold, this.settings.cooldownMs, this.now))
    if (!own.admit()) return { admitted: false, retryInMs: own.retryInMs, scoped: true }
    if (!this.shared.admit()) {
      own.released()
      return { admitted: false, retryInMs: this.shared.retryInMs, scoped: false }
    }
    const breaker = own
    return { admitted: true, verdict: (verdict) => { this.judge(breaker, principal, verdict) } }
  }

  private judge (own: CircuitBreaker, principal: string, verdict: Verdict): void {
    if (verdict === 'released') {
      own.released()
      this.shared.released()
      return
    }
    if (verdict === 'succeeded') {
      own.succeeded()
      this.shared.succeeded()
      this.streak.clear()
      this.streakFailures = 0
      return
    }
    own.failed()
    this.streakFailures++
    this.streak.add(principal)
    const spread = this.streak.size >= this.settings.spreadPrincipals || [...this.streak].some((p) => SHARED_PRINCIPALS.has(p))
    // A failed probe of the open shared breaker opens it again, as any breaker's does.
    if (this.shared.state !== 'closed' || (this.streakFailures >= this.settings.threshold && spread)) {
      this.shared.failed()
      this.streak.clear()
      this.streakFailures = 0
    } else {
      this.shared.released()
    }
  }
}
