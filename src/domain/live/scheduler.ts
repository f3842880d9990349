/*
 * The gateway-wide ceiling on upstream polls per second, shared fairly: pollers wait their turn in
 * one FIFO queue, and each poller asks again only after its poll and its interval, so under load
 * every poller's effective interval stretches by the same amount instead of a few starving.
 */

export class PollScheduler {
  private readonly queue: Array<{ grant: () => void, signal: AbortSignal, onAbort: () => void }> = []
  private tokens: number
  private last: number
  private timer: NodeJS.Timeout | null = null
  private closed = false
  /** Turns granted so far: every upstream call live status made (for tests and metrics). */
  granted = 0

  constructor (private readonly perSecond: number, private readonly now: () => number = () => performance.now()) {
    this.tokens = Math.max(1, perSecond)
    this.last = now()
  }

  /** Resolves when this poller may poll; rejects if `signal` aborts first. */
  async turn (signal: AbortSignal): Promise<void> {
    if (this.closed || signal.aborted) throw signal.reason ?? new Error('scheduler closed')
    return await new Promise<void>((resolve, reject) => {
      const entry = {
        grant: () => { signal.removeEventListener('abort', entry.onAbort); resolve() },
        signal,
        onAbort: () => {
          const at = this.queue.indexOf(entry)
          if (at !== -1) this.queue.splice(at, 1)
          reject(signal.reason)
        }
      }
      signal.addEventListener('abort', entry.onAbort, { once: true })
      this.queue.push(entry)
      this.drain()
    })
  }

  close (): void {
    this.closed = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }

  private drain (): void {
    this.refill()
    while (this.queue.length > 0 && this.tokens >= 1) {
      this.tokens -= 1
      this.granted++
      this.queue.shift()?.grant()
    }
    if (this.queue.length > 0 && this.timer === null && !this.closed) {
      const wait = Math.ceil(((1 - this.tokens) / this.perSecond) * 1000)
      this.timer = setTimeout(() => { this.timer = null; this.drain() }, Math.max(1, wait))
    }
  }

  private refill (): void {
    const now = this.now()
    this.tokens = Math.min(Math.max(1, this.perSecond), this.tokens + ((now - this.last) / 1000) * this.perSecond)
    this.last = now
  }
}
