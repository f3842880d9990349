/*
 * A token bucket: up to `burst` at once, then `perSecond` on average (messages, or bytes), on the clock it is given
 * (milliseconds), so tests drive time. Ours rather than `limiter`'s TokenBucket, which reads its own
 * clock: one bucket per socket wants neither timers nor promises, only two numbers.
 */

export class TokenBucket {
  private tokens: number
  private last: number

  constructor (private readonly burst: number, private readonly perSecond: number, private readonly now: () => number) {
    this.tokens = burst
    this.last = now()
  }

  /** Takes `count` tokens: false (and nothing taken) when fewer are left. */
  take (count = 1): boolean {
    this.refill()
    if (this.tokens < count) return false
    this.tokens -= count
    return true
  }

  /** Milliseconds until a token is there again (0 when one is). */
  waitMs (): number {
    this.refill()
    return this.tokens >= 1 ? 0 : Math.ceil((1 - this.tokens) * 1000 / this.perSecond)
  }

  private refill (): void {
    const now = this.now()
    if (now <= this.last) return
    this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.perSecond / 1000)
    this.last = now
  }
}
