import type { FastifyBaseLogger } from 'fastify'
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit'

/*
 * The fixed-window counters behind every per-caller allowance of a minute. In one process they live
 * in a map; with REDIS_URL they live in Redis (src/cluster/windows.ts), so that a caller's allowance
 * is one for the whole cluster. While Redis is away each replica counts on its own, as a single gateway
 * does (a caller may then get up to one allowance per replica): limits never vanish, and no request
 * waits for Redis longer than the request-path deadline (REDIS_REQUEST_TIMEOUT_MS; not at all once an outage
 * is known, src/cluster/redis.ts). The switch is logged once each way.
 */

export interface WindowCount {
  /** Counted in this window, this one included. */
  current: number
  /** Until the window ends. */
  ttlMs: number
}

/** Windows counted over every replica (src/cluster/windows.ts on Redis), chosen by `app.sharedState`. */
export interface SharedWindows {
  incr: (key: string, windowMs: number) => Promise<WindowCount>
}

class LocalWindows {
  private readonly windows = new Map<string, { count: number, endsAt: number }>()

  constructor (private readonly now: () => number) {}

  incr (key: string, windowMs: number): WindowCount {
    const now = this.now()
    let window = this.windows.get(key)
    if (window === undefined || window.endsAt <= now) {
      // A key whose window has ended is forgotten when the map grows: idle callers cost nothing.
      if (this.windows.size >= 10_000) this.forgetEnded(now)
      window = { count: 0, endsAt: now + windowMs }
      this.windows.set(key, window)
    }
    window.count++
    return { current: window.count, ttlMs: window.endsAt - now }
  }

  private forgetEnded (now: number): void {
    for (const [key, window] of this.windows) if (window.endsAt <= now) this.windows.delete(key)
  }
}

export class CallerWindows {
  private readonly local: LocalWindows
  private sharedDown = false

  constructor (private readonly shared: SharedWindows | null, private readonly log: FastifyBaseLogger, now: () => number = Date.now) {
    this.local = new LocalWindows(now)
  }

  async incr (key: string, windowMs: number): Promise<WindowCount> {
    if (this.shared === null) return this.local.incr(key, windowMs)
    try {
      const count = await this.shared.incr(key, windowMs)
      if (this.sharedDown) {
        this.sharedDown = false
        this.log.info('Rate limits: counted in Redis again, for the whole cluster')
      }
      return count
    } catch (err) {
      if (!this.sharedDown) {
        this.sharedDown = true
        // Info: the link to Redis warns of the outage once for every feature.
        this.log.info({ err: { message: err instanceof Error ? err.message : String(err) } }, 'Rate limits: Redis is unavailable; each replica counts its own requests until it returns')
      }
      return this.local.incr(key, windowMs)
    }
  }
}

/** @fastify/rate-limit's store on these windows (its own Redis store would fail open instead of counting locally). */
export function rateLimitStore (windows: CallerWindows): FastifyRateLimitStoreCtor {
  return class implements FastifyRateLimitStore {
    incr (key: string, callback: (error: Error | null, result?: { current: number, ttl: number }) => void, timeWindow: number): void {
      windows.incr(key, timeWindow).then(
        ({ current, ttlMs }) => { callback(null, { current, ttl: ttlMs }) },
        (err: unknown) => { callback(err instanceof Error ? err : new Error(String(err))) }
      )
    }

    child (): FastifyRateLimitStore {
      return this
    }
  }
}
