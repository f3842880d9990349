import type { CallerWindows } from './allowance-windows.js'

/*
 * Per-caller allowances of operations a minute, for the doors @fastify/rate-limit does not see: a
 * query or a mutation sent over a WebSocket is one message on a long-lived socket, not an HTTP request.
 * Fixed one-minute windows per key, as @fastify/rate-limit counts, in this process or, with REDIS_URL,
 * for the whole cluster (allowance-windows.ts). (Counted apart from the counters of the HTTP doors,
 * GraphQL over HTTP and REST: a caller using several doors gets each door's allowance.)
 */

export class OperationAllowance {
  constructor (private readonly perMinute: number, private readonly windows: CallerWindows, private readonly prefix: string) {}

  /** Counts one operation for `key`: null when allowed, otherwise the seconds until its window ends. */
  async take (key: string): Promise<number | null> {
    if (this.perMinute === 0) return null
    const { current, ttlMs } = await this.windows.incr(`${this.prefix}${key}`, 60_000)
    return current > this.perMinute ? Math.max(1, Math.ceil(ttlMs / 1000)) : null
  }
}
