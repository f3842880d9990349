import { isUnprovenKey } from '../auth/index.js'
import { GatewayError } from '../errors.js'
import type { CallerAllowance } from '../graphql/pipeline/ports.js'
import type { CallerWindows } from './allowance-windows.js'
import { unprovenRefusal, type Allowances } from './rate-limits.js'

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

type Kind = 'requests' | 'mutations' | 'unproven'

/**
 * The pipeline's allowance (src/graphql/pipeline): each door's counters apart, as the HTTP doors'
 * are (`ws:` for WebSocket, the door's name for others), mutations against their own allowance and
 * unproven tokens in their lanes (see callerKey), worded as the HTTP doors word their refusals.
 */
export class CallerAllowances implements CallerAllowance {
  private readonly doors = new Map<string, Record<Kind, OperationAllowance>>()

  constructor (private readonly rates: Allowances, private readonly windows: CallerWindows) {}

  async take (door: string, lane: string, type: 'query' | 'mutation'): Promise<GatewayError | null> {
    const { rateLimitPerMinute, rateLimitMutationsPerMinute, rateLimitUnprovenPerMinute } = this.rates
    const kind: Kind = isUnprovenKey(lane) && rateLimitUnprovenPerMinute > 0
      ? 'unproven'
      : type === 'mutation' && rateLimitMutationsPerMinute > 0 ? 'mutations' : 'requests'
    const waitSec = await this.of(door)[kind].take(lane)
    if (waitSec === null) return null
    const max = kind === 'mutations' ? rateLimitMutationsPerMinute : rateLimitPerMinute
    return new GatewayError('RATE_LIMITED', kind === 'unproven'
      ? `${unprovenRefusal(rateLimitUnprovenPerMinute)} Try again in ${waitSec} s.`
      : `Too many ${kind}: at most ${max} a minute for each caller. Try again in ${waitSec} s.`)
  }

  private of (door: string): Record<Kind, OperationAllowance> {
    let allowances = this.doors.get(door)
    if (allowances !== undefined) return allowances
    const prefix = door === 'websocket' ? 'ws:' : `${door}:`
    allowances = {
      requests: new OperationAllowance(this.rates.rateLimitPerMinute, this.windows, `${prefix}requests:`),
      mutations: new OperationAllowance(this.rates.rateLimitMutationsPerMinute, this.windows, `${prefix}mutations:`),
      unproven: new OperationAllowance(this.rates.rateLimitUnprovenPerMinute, this.windows, prefix)
    }
    this.doors.set(door, allowances)
    return allowances
  }
}
