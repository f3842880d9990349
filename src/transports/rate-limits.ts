import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { callerKey, isUnprovenKey, type Auth } from '../auth/index.js'
import { CallerWindows, rateLimitStore } from './allowance-windows.js'

/*
 * The per-caller allowances of REST's requests (@fastify/rate-limit; the GraphQL doors count their
 * operations in the pipeline, operation-allowance.ts, on the same windows): writes (POSTs: they make
 * Visual Layer work) against their own, stricter allowance, everything else against the general one.
 * Counted after authentication, in the door's preHandler, so by caller and not by address; a caller
 * without credentials counts against its address (TRUST_PROXY says which), and a passthrough token
 * Visual Layer has not accepted yet in a lane of its own (see callerKey). With REDIS_URL the counters
 * are the cluster's, in Redis; while Redis is away each replica counts alone (allowance-windows.ts).
 */

export interface Allowances {
  /** Requests a minute per caller; 0: no limit. */
  rateLimitPerMinute: number
  /** Writes a minute per caller; 0: writes count as requests. */
  rateLimitMutationsPerMinute: number
  /** Requests a minute in each lane of unproven passthrough tokens (an address, or an API key); 0: they count as requests. */
  rateLimitUnprovenPerMinute: number
}

export interface DoorCounting {
  /** Keeps this door's counters apart from another door's (`rest:`), or '' . */
  prefix: string
  /** Whether a request is a write, and how the refusal names each kind ("mutations", "writes"). */
  isWrite: (request: FastifyRequest) => boolean
  writes: string
}

const UNPROVEN = 'unproven'

/** Whom an HTTP request counts against: its caller's lane (see callerKey), or its address before it is authenticated. */
export function callerOfRequest (auth: Auth): (request: FastifyRequest) => string {
  return (request) => request.caller === null ? `address:${request.ip}` : callerKey(auth, request.caller, request.ip)
}

export async function registerCallerRateLimits (app: FastifyInstance, auth: Auth, allowances: Allowances, door: DoorCounting): Promise<void> {
  const { rateLimitPerMinute, rateLimitMutationsPerMinute, rateLimitUnprovenPerMinute } = allowances
  if (rateLimitPerMinute <= 0 && rateLimitMutationsPerMinute <= 0 && rateLimitUnprovenPerMinute <= 0) return
  const callerOf = callerOfRequest(auth)
  const kindOf = (request: FastifyRequest): string => {
    if (rateLimitUnprovenPerMinute > 0 && isUnprovenKey(callerOf(request))) return UNPROVEN
    return door.isWrite(request) && rateLimitMutationsPerMinute > 0 ? door.writes : 'requests'
  }
  const allowance = (request: FastifyRequest): number => {
    const kind = kindOf(request)
    return kind === UNPROVEN ? rateLimitUnprovenPerMinute : kind === door.writes ? rateLimitMutationsPerMinute : rateLimitPerMinute
  }
  const log = app.log.child({ component: 'rate-limit', door: door.prefix === '' ? 'graphql' : door.prefix })
  const shared = app.sharedState.windows === null ? {} : { store: rateLimitStore(new CallerWindows(app.sharedState.windows, log)), skipOnError: true }
  await app.register(rateLimit, {
    ...shared,
    hook: 'preHandler',
    max: (request) => allowance(request),
    timeWindow: 60_000,
    allowList: (request) => allowance(request) === 0,
    keyGenerator: (request) => `${door.prefix}${kindOf(request)}:${callerOf(request)}`,
    errorResponseBuilder: (request, context) => Object.assign(
      new Error(kindOf(request) === UNPROVEN
        ? `${unprovenRefusal(context.max)} Try again in ${context.after}.`
        : `Too many ${kindOf(request)}: at most ${context.max} a minute for each caller. Try again in ${context.after}.`),
      { statusCode: 429 }
    )
  })
}

/** The refusal of an unproven token's request over its lane's allowance (every door words it alike). */
export function unprovenRefusal (max: number): string {
  return `Too many requests with tokens Visual Layer has not accepted yet: at most ${max} a minute from one address, or for one API key once a token of it was accepted.`
}
