/*
 * A circuit breaker in front of Visual Layer. After `threshold` failures in a row that say Visual
 * Layer is down (no connection, timeouts, 502/503/504; see layers/breaker.ts), calls fail fast for
 * `cooldownMs` without being sent; then one call goes through as a probe: its success closes the
 * breaker, its failure opens it again. Answers that say Visual Layer is up (2xx, 4xx) reset the count.
 */

export type BreakerState = 'closed' | 'open' | 'half-open'

export class CircuitBreaker {
  private failures = 0
  private openedAt: number | null = null
  private probing = false

  constructor (private readonly threshold: number, private readonly cooldownMs: number, private readonly now: () => number = () => performance.now()) {}

  get state (): BreakerState {
    if (this.openedAt === null) return 'closed'
    return this.now() - this.openedAt >= this.cooldownMs ? 'half-open' : 'open'
  }

  /** Milliseconds until a probe may go, while open; 0 otherwise. */
  get retryInMs (): number {
    return this.openedAt === null ? 0 : Math.max(0, this.cooldownMs - (this.now() - this.openedAt))
  }

  /** Whether a call may be sent now (one probe at a time once the cooldown has passed). */
  admit (): boolean {
    const state = this.state
    if (state === 'closed') return true
    if (state === 'open' || this.probing) return false
    this.probing = true
    return true
  }

  succeeded (): void {
    this.failures = 0
    this.openedAt = null
    this.probing = false
  }

  failed (): void {
    this.probing = false
    this.failures++
    if (this.openedAt !== null || this.failures >= this.threshold) this.openedAt = this.now()
  }

  /** A call that was admitted but ended without a verdict on Visual Layer's health (cancelled). */
  released (): void {
    this.probing = false
  }
}
