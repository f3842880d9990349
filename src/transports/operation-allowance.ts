import { isUnprovenKey } from '../auth/index.js'
import { GatewayError } from '../errors.js'
import type { AllowanceTaken, AllowanceWindow, CallerAllowance } from '../graphql/pipeline/ports.js'
import type { CallerWindows } from './allowance-windows.js'
import { unprovenRefusal, type Allowances } from './rate-limits.js'

/*
 * Per-caller allowances of operations a minute, for every door of the operation pipeline (GraphQL
 * over HTTP, WebSocket, SSE and the doors to come): fixed one-minute windows per key, in this process
 * or, with REDIS_URL, for the whole cluster (allowance-windows.ts). Each door counts apart (a caller
 * using several doors gets each door's allowance), mutations against their own allowance and
 * unproven tokens in their lanes (see callerKey). REST counts its requests with @fastify/rate-limit
 * on the same windows (rate-limits.ts); the refusals are worded alike.
 */

/** A counted operation's window, and whether it went over. */
type Counted = AllowanceWindow & { readonly over: boolean }

export class OperationAllowance {
  constructor (private readonly perMinute: number, private readonly windows: CallerWindows, private readonly prefix: string) {}

  /** Counts one operation for `key`: its window, or null when there is no limit. */
  async take (key: string): Promise<Counted | null> {
    if (this.perMinute === 0) return null
    const { current, ttlMs } = await this.windows.incr(`${this.prefix}${key}`, 60_000)
    return {
      limit: this.perMinute,
      remaining: Math.max(0, this.perMinute - current),
      resetSeconds: Math.max(1, Math.ceil(ttlMs / 1000)),
      over: current > this.perMinute
    }
  }
}

type Kind = 'requests' | 'mutations' | 'unproven'

/** A door's counters, and how its refusals say the wait. */
interface Door {
  readonly allowances: Record<Kind, OperationAllowance>
  readonly wait: (seconds: number) => string
}

/** The door GraphQL over HTTP names itself in its records. */
const HTTP = 'http'

/** The wait in words, as REST's refusals (@fastify/rate-limit) say it: "1 minute", "42 seconds". */
function inWords (seconds: number): string {
  if (seconds >= 60) {
    const minutes = Math.round(seconds / 60)
    return `${minutes} minute${minutes === 1 ? '' : 's'}`
  }
  return `${seconds} second${seconds === 1 ? '' : 's'}`
}

/**
 * The pipeline's allowance (src/graphql/pipeline). Keys: GraphQL over HTTP counts under `kind:lane`,
 * as REST counts under `rest:kind:lane` (rate-limits.ts); WebSocket under `ws:`, any other door
 * under its name. Over HTTP the wait is said in words, as REST says it; over a socket or a stream in seconds.
 */
export class CallerAllowances implements CallerAllowance {
  private readonly doors = new Map<string, Door>()

  constructor (private readonly rates: Allowances, private readonly windows: CallerWindows) {}

  async take (door: string, lane: string, type: 'query' | 'mutation'): Promise<AllowanceTaken> {
    const { rateLimitMutationsPerMinute, rateLimitUnprovenPerMinute } = this.rates
    const kind: Kind = isUnprovenKey(lane) && rateLimitUnprovenPerMinute > 0
      ? 'unproven'
      : type === 'mutation' && rateLimitMutationsPerMinute > 0 ? 'mutations' : 'requests'
    const { allowances, wait } = this.of(door)
    const counted = await allowances[kind].take(lane)
    if (counted === null) return { refusal: null, window: null }
    const window = { limit: counted.limit, remaining: counted.remaining, resetSeconds: counted.resetSeconds }
    if (!counted.over) return { refusal: null, window }
    const after = wait(counted.resetSeconds)
    return {
      window,
      refusal: new GatewayError('RATE_LIMITED', kind === 'unproven'
        ? `${unprovenRefusal(rateLimitUnprovenPerMinute)} Try again in ${after}.`
        : `Too many ${kind}: at most ${counted.limit} a minute for each caller. Try again in ${after}.`)
    }
  }

  private of (name: string): Door {
    let door = this.doors.get(name)
    if (door !== undefined) return door
    const prefix = name === HTTP ? '' : name === 'websocket' ? 'ws:' : `${name}:`
    door = {
      allowances: {
        requests: new OperationAllowance(this.rates.rateLimitPerMinute, this.windows, `${prefix}requests:`),
        mutations: new OperationAllowance(this.rates.rateLimitMutationsPerMinute, this.windows, `${prefix}mutations:`),
        // The lane names itself unproven (`unproven:…`); over HTTP the key names the kind too, as REST's does.
        unproven: new OperationAllowance(this.rates.rateLimitUnprovenPerMinute, this.windows, name === HTTP ? 'unproven:' : prefix)
      },
      wait: name === HTTP ? inWords : (seconds) => `${seconds} s`
    }
    this.doors.set(name, door)
    return door
  }
}
