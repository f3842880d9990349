/*
 * The gateway-wide ceiling on upstream polls per second, shared fairly: first between callers
 * (credential scopes), then between each caller's pollers. Each scope waits in a queue of its own
 * and the next turn goes to the waiting scope served longest ago, so a caller watching a thousand
 * resources gets no more of the ceiling than one watching a single resource, and cannot slow everyone
 * else's pollers; within a scope, pollers wait in FIFO order. (Plain round robin would not do: a
 * scope whose one poller is between polls leaves the rotation and comes back behind the busy one.) A poller asks again only after its poll and its
 * interval, so under load every poller's effective interval stretches alike instead of a few starving.
 * A token bucket refills at `perSecond`; p-limit and its kin bound concurrency, not a rate per group,
 * hence these few lines.
 */

import { realTime, type LiveTime } from './time.js'

interface Waiting { grant: () => void, onAbort: () => void }

export class PollScheduler {
  /** Scopes with pollers waiting. */
  private readonly groups = new Map<string, Waiting[]>()
  /** When each scope was last served (a count of turns), oldest first: re-set on each turn, so Map order is age order. */
  private readonly lastServed = new Map<string, number>()
  private served = 0
  private tokens: number
  private last: number
  /** Cancels the timer that refills the bucket for the waiting pollers, while one is set. */
  private timer: (() => void) | null = null
  private closed = false
  /** Turns granted so far: every upstream call live status made (for tests and metrics). */
  granted = 0

  constructor (private readonly perSecond: number, private readonly time: LiveTime = realTime) {
    this.tokens = Math.max(1, perSecond)
    this.last = time.now()
  }

  /** Resolves when this poller may poll; rejects if `signal` aborts first. `group` is its caller (credential scope). */
  async turn (signal: AbortSignal, group = ''): Promise<void> {
    if (this.closed || signal.aborted) throw signal.reason ?? new Error('scheduler closed')
    return await new Promise<void>((resolve, reject) => {
      const entry: Waiting = {
        grant: () => { signal.removeEventListener('abort', entry.onAbort); resolve() },
        onAbort: () => {
          const queue = this.groups.get(group)
          const at = queue?.indexOf(entry) ?? -1
          if (queue !== undefined && at !== -1) {
            queue.splice(at, 1)
            if (queue.length === 0) this.groups.delete(group)
          }
          reject(signal.reason)
        }
      }
      signal.addEventListener('abort', entry.onAbort, { once: true })
      const queue = this.groups.get(group)
      if (queue === undefined) this.groups.set(group, [entry])
      else queue.push(entry)
      this.drain()
    })
  }

  close (): void {
    this.closed = true
    this.timer?.()
    this.timer = null
  }

  private drain (): void {
    this.refill()
    while (this.groups.size > 0 && this.tokens >= 1) {
      const group = this.longestUnserved()
      const queue = this.groups.get(group) ?? []
      this.tokens -= 1
      const entry = queue.shift()
      if (queue.length === 0) this.groups.delete(group)
      this.lastServed.delete(group)
      this.lastServed.set(group, ++this.served)
      // Scopes come and go (a passthrough token is one until proven): forget the longest unserved beyond a bound.
      for (const old of this.lastServed.keys()) {
        if (this.lastServed.size <= 10_000) break
        this.lastServed.delete(old)
      }
      this.granted++
      entry?.grant()
    }
    if (this.groups.size > 0 && this.timer === null && !this.closed) {
      const wait = Math.ceil(((1 - this.tokens) / this.perSecond) * 1000)
      this.timer = this.time.after(Math.max(1, wait), () => { this.timer = null; this.drain() })
    }
  }

  /** The waiting scope served longest ago (never served: first). Linear in the scopes waiting, which are few next to the polls. */
  private longestUnserved (): string {
    let best = ''
    let bestAt = Infinity
    for (const group of this.groups.keys()) {
      const at = this.lastServed.get(group) ?? -1
      if (at < bestAt) {
        best = group
        bestAt = at
      }
    }
    return best
  }

  private refill (): void {
    const now = this.time.now()
    this.tokens = Math.min(Math.max(1, this.perSecond), this.tokens + ((now - this.last) / 1000) * this.perSecond)
    this.last = now
  }
}
