/*
 * Per-caller allowances of operations a minute, for the doors @fastify/rate-limit does not see: a
 * query or a mutation sent over a WebSocket is one message on a long-lived socket, not an HTTP request.
 * Fixed one-minute windows per key, as @fastify/rate-limit's in-memory store counts; a key whose window
 * has ended is forgotten when the map grows, so idle callers cost nothing. (Counted apart from the HTTP
 * door's counters: a caller using both doors gets each door's allowance.)
 */

export class OperationAllowance {
  private readonly windows = new Map<string, { count: number, endsAt: number }>()

  constructor (private readonly perMinute: number, private readonly now: () => number = Date.now) {}

  /** Counts one operation for `key`: null when allowed, otherwise the seconds until its window ends. */
  take (key: string): number | null {
    if (this.perMinute === 0) return null
    const now = this.now()
    let window = this.windows.get(key)
    if (window === undefined || window.endsAt <= now) {
      if (this.windows.size >= 10_000) this.forgetEnded(now)
      window = { count: 0, endsAt: now + 60_000 }
      this.windows.set(key, window)
    }
    if (window.count >= this.perMinute) return Math.max(1, Math.ceil((window.endsAt - now) / 1000))
    window.count++
    return null
  }

  private forgetEnded (now: number): void {
    for (const [key, window] of this.windows) if (window.endsAt <= now) this.windows.delete(key)
  }
}
