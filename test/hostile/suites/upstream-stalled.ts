import { expect } from 'vitest'
import { SEED } from '../../../src/emulator/index.js'
import { hostileCase, type HostileCase } from '../harness/case.js'
import { operate, OTHER_TENANT, readyAnswer, type OperatedDoor } from '../harness/door-operations.js'
import { defineSuite } from '../harness/suite.js'
import { genuineToken } from '../harness/tokens.js'

/*
 * Visual Layer stalled for one tenant: the emulator holds every read of six of the account's datasets
 * past the gateway's deadline, while the account asks for them on a door; then a caller of another
 * tenant asks for its own dataset on the same door and must be answered (issue 22 item 9: one caller's
 * slow resources may not make the gateway refuse everyone).
 */

const HELD = [SEED.datasets.ready, SEED.datasets.readySecond, SEED.datasets.enrichedSource, SEED.datasets.enriched, SEED.datasets.readOnly, SEED.datasets.partialIndex]
/** How long the emulator holds each read: well past UPSTREAM_TIMEOUT_MS below. */
const HOLD_MS = 3_000

interface Stalled {
  held: string[]
  other: string
}

function stalled (door: OperatedDoor): HostileCase {
  return hostileCase<Stalled>({
    door,
    attack: 'upstream-stalled',
    name: `the account asks for 6 datasets whose reads Visual Layer holds ${HOLD_MS} ms; then another tenant asks for its own`,
    guards: ['issue 22 item 9'],
    run: async (ctx) => {
      for (const id of HELD) ctx.emulator.injectFault({ method: 'GET', path: `/api/v1/dataset/${id}`, delayMs: HOLD_MS, times: 1_000 })
      // Subscriptions wait for their first event (their poller backs off and keeps them): the
      // attacker gives up a second later, once the deadline has passed for each, as a client would.
      const held = await Promise.all(HELD.map(async (id, n) => (await operate(door, ctx, ctx.account, n, id, AbortSignal.timeout(1_000))).text))
      const other = (await operate(door, ctx, genuineToken(OTHER_TENANT.account), 0, OTHER_TENANT.datasetId, AbortSignal.timeout(3_000))).text
      return { held, other }
    },
    answers: ({ held, other }) => {
      for (const answer of held) expect(answer).toMatch(/UPSTREAM_TIMEOUT|UPSTREAM_UNAVAILABLE|Gateway Timeout|Service Unavailable|^no answer$/)
      expect(other).toBe(readyAnswer(door, OTHER_TENANT.datasetId))
    },
    upstream: (calls) => {
      // The other tenant's read was sent, and answered.
      expect(calls.filter((call) => call.path === `/api/v1/dataset/${OTHER_TENANT.datasetId}`).map((call) => call.status)).toContain(200)
      // The held reads: one each, and what the pollers' backoff retried while their subscribers waited.
      expect(calls.filter((call) => HELD.some((id) => call.path.endsWith(id))).length).toBeLessThanOrEqual(HELD.length * 3)
    }
  })
}

export const suite = defineSuite({
  name: 'upstream-stalled',
  env: {
    // The gateway's deadline on a Visual Layer call (default 10 s): short enough that the stall
    // outlasts it within the case's second and a half.
    UPSTREAM_TIMEOUT_MS: '500'
  },
  cases: (['graphql-http', 'websocket', 'sse', 'rest', 'rest-events'] as const).map(stalled)
})
