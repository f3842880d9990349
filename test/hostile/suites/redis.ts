import type { ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { expect } from 'vitest'
import { freePort, startOwnRedis, stopOwnRedis } from '../../helpers/redis-server.js'
import { hostileCase, type AttackContext, type HostileCase } from '../harness/case.js'
import { operate, readyAnswer, type Answered, type OperatedDoor } from '../harness/door-operations.js'
import { inWaves } from '../harness/http.js'
import { defineSuite } from '../harness/suite.js'

/*
 * The Redis the replicas share (REDIS_URL), as production runs it (deploy/kubernetes), stalled or gone
 * while callers use each door: a redis-server of the suite's own, stopped with SIGSTOP (a stall: its
 * socket stays open and nothing answers) or killed. No request may wait for it (issue 22 item 3): each
 * door's operations are answered, and the probe too, while Redis is still stopped.
 */

interface OwnRedis {
  port: number
  process: ChildProcess
}

/** How long the attack holds Redis stalled or down: its operations start at once and must be answered within it. */
const OUTAGE_MS = 1_000
/** Operations per door during the outage (each its own document, so that none shares another's execution). */
const OPERATIONS: Record<OperatedDoor, number> = { 'graphql-http': 10, websocket: 3, sse: 3, rest: 10, 'rest-events': 3 }

interface OutageResult {
  answers: string[]
  /** Operations answered only after Redis came back (or after the outage's time). */
  late: number
}

/** Runs the door's operations while Redis is out; `out` puts it out, `back` brings it back. */
async function duringOutage (ctx: AttackContext<OwnRedis>, door: OperatedDoor, out: () => void | Promise<void>, back: () => Promise<void>): Promise<OutageResult> {
  await out()
  const outageEnds = performance.now() + OUTAGE_MS
  let answered: Answered[] = []
  try {
    // A caller gives up a second after the outage: an operation Redis holds is answered "no answer".
    const operations = inWaves(OPERATIONS[door], 2, ctx.signal, async (n) => await operate(door, ctx, ctx.account, n, undefined, AbortSignal.timeout(OUTAGE_MS + 1_000)))
    // The outage lasts its time whatever the operations do: the probe measures all of it.
    const [results] = await Promise.all([operations, sleep(OUTAGE_MS)])
    answered = results
  } finally {
    await back()
  }
  return { answers: answered.map((answer) => answer.text), late: answered.filter((answer) => answer.at > outageEnds).length }
}

function expected (door: OperatedDoor): string[] {
  return Array.from({ length: OPERATIONS[door] }, (_, n) => readyAnswer(door, undefined, n))
}

function stalled (door: OperatedDoor): HostileCase<unknown, OwnRedis> {
  return hostileCase<OutageResult, OwnRedis>({
    door,
    attack: 'redis-stalled',
    name: `${OPERATIONS[door]} operations while Redis is stopped (SIGSTOP) for ${OUTAGE_MS} ms`,
    guards: ['issue 22 item 3'],
    run: async (ctx) => await duringOutage(ctx, door, () => { ctx.suite.process.kill('SIGSTOP') }, async () => { ctx.suite.process.kill('SIGCONT') }),
    answers: ({ answers, late }) => {
      expect(answers).toEqual(expected(door))
      expect(late, 'operations answered only once Redis answered again').toBe(0)
    },
    upstream: upstreamOf(door)
  })
}

function down (door: OperatedDoor): HostileCase<unknown, OwnRedis> {
  return hostileCase<OutageResult, OwnRedis>({
    door,
    attack: 'redis-down',
    name: `${OPERATIONS[door]} operations while Redis is killed, for ${OUTAGE_MS} ms`,
    run: async (ctx) => await duringOutage(ctx, door, async () => { await stopOwnRedis(ctx.suite.process) }, async () => {
      ctx.suite.process = await startOwnRedis(ctx.suite.port)
      if (!await ctx.gateway.redisUp(10_000)) throw new Error('the gateway did not connect to Redis again within 10 s')
    }),
    answers: ({ answers, late }) => {
      expect(answers).toEqual(expected(door))
      expect(late, 'operations answered only after the outage').toBe(0)
    },
    upstream: upstreamOf(door)
  })
}

/** At most one call an operation: reads in flight are shared, and subscriptions of one dataset share their poller. */
function upstreamOf (door: OperatedDoor): { atMost: number } {
  return { atMost: OPERATIONS[door] }
}

const DOOR_LIST: OperatedDoor[] = ['graphql-http', 'websocket', 'sse', 'rest', 'rest-events']

export const suite = defineSuite<OwnRedis>({
  name: 'redis',
  setup: async () => {
    const port = await freePort()
    const own: OwnRedis = { port, process: await startOwnRedis(port) }
    return {
      value: own,
      env: { REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_KEY_PREFIX: `hostile:${randomUUID()}:` },
      close: async () => {
        if (own.process.signalCode === null && own.process.exitCode === null) own.process.kill('SIGCONT')
        await stopOwnRedis(own.process)
      }
    }
  },
  cases: [...DOOR_LIST.map(stalled), ...DOOR_LIST.map(down)]
})
