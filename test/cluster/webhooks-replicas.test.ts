import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { DEMO_ACCOUNTS, SEED, startEmulator, type RunningEmulator } from '../../src/emulator/index.js'
import { bundleGateway, GatewayProcess, removeBundle } from '../hostile/harness/gateway-process.js'
import { describeWithRedis, TEST_REDIS_URL } from '../helpers/cluster.js'
import { TEST_START } from '../helpers/gateway.js'
import { Receiver, type Answer } from '../helpers/webhook-receiver.js'
import { when } from '../helpers/wait.js'

/*
 * Three replicas as processes of their own on one Redis, as a cluster runs them, so that one can be killed
 * (SIGKILL: nothing handed back, nothing finished) while its deliveries are in flight: every event is still
 * delivered, each with the one webhook-id it was first sent with; then every replica is killed while
 * deliveries are pending and new replicas deliver them all. The replicas run on the wall clock (a killed
 * process's claims lapse in real time): an attempt's deadline of 3 s (long enough for the held attempts to be
 * in flight when their replica is killed) makes a claim last 6 s.
 */

const ATTEMPT_TIMEOUT_MS = 3_000

let emulator: RunningEmulator
let bundle: string
const prefix = `test:${randomUUID()}:`
const replicas: GatewayProcess[] = []

async function replica (): Promise<GatewayProcess> {
  const gateway = await GatewayProcess.start({
    bundle,
    maxOldSpaceMb: 256,
    env: {
      VL_BASE_URL: emulator.url,
      AUTH_MODE: 'none',
      VL_API_KEY: DEMO_ACCOUNTS.primary.apiKey,
      VL_API_SECRET: DEMO_ACCOUNTS.primary.apiSecret,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      LOG_LEVEL: 'warn',
      GRAPHIQL: 'false',
      WEBHOOKS_ALLOW_PRIVATE_TARGETS: '127.0.0.1',
      WEBHOOKS_ATTEMPT_TIMEOUT_MS: String(ATTEMPT_TIMEOUT_MS),
      // Retried a second apart (± 20 %), ten times: whatever fails while a replica dies is tried again soon.
      WEBHOOKS_RETRY_SCHEDULE: '1s,1s,1s,1s,1s,1s,1s,1s,1s,1s'
    }
  })
  replicas.push(gateway)
  return gateway
}

async function call (gateway: GatewayProcess, method: string, path: string, body?: unknown): Promise<{ status: number, body: any }> {
  const res = await fetch(`${gateway.url}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
  const text = await res.text()
  return { status: res.status, body: text === '' ? null : JSON.parse(text) }
}

describeWithRedis('webhooks on replicas that are killed', () => {
  beforeAll(async () => {
    ;[emulator, bundle] = await Promise.all([startEmulator({ clock: TEST_START }), bundleGateway()])
  }, 60_000)

  afterAll(async () => {
    await Promise.all(replicas.map(async (gateway) => { await gateway.kill() }))
    await emulator?.close()
    if (bundle !== undefined) removeBundle(bundle)
    const redis = new Redis(TEST_REDIS_URL)
    const keys = await redis.keys(`${prefix}*`)
    if (keys.length > 0) await redis.del(...keys)
    redis.disconnect()
  })

  it('delivers every event once a replica is killed mid-delivery, with its first webhook-id; and what is pending when all are killed', async () => {
    const [a, b, c] = await Promise.all([replica(), replica(), replica()]) as [GatewayProcess, GatewayProcess, GatewayProcess]
    /** What the receiver does: holds every delivery, then answers 503, then 200. */
    let mode: 'hold' | 'fail' | 'accept' = 'hold'
    const accepted = new Set<string>()
    const receiver = await Receiver.start((_count, received): Answer => {
      if (mode === 'hold') return 'hang'
      if (mode === 'fail') return 503
      accepted.add(String(received.headers['webhook-id']))
      return 200
    })
    try {
      const created = await call(a, 'POST', '/v1/webhooks', { url: receiver.url, events: ['dataset.ready'], datasetIds: [SEED.datasets.ready] })
      expect([created.status, created.body.storage]).toEqual([201, 'redis'])
      receiver.secrets.push(created.body.secret)
      const id = created.body.id as string

      // Nine pings, three through each replica; each replica sends what it claims, and the receiver holds them all.
      const pings = await Promise.all([a, b, c, a, b, c, a, b, c].map(async (gateway) => await call(gateway, 'POST', `/v1/webhooks/${id}/test`)))
      expect(pings.map(({ status }) => status)).toEqual(Array<number>(9).fill(202))
      const events = new Set(pings.map(({ body }) => String(body.eventId)))
      const heldIds = (): Set<string> => new Set(receiver.received.map((got) => String(got.headers['webhook-id'])))
      await when('every ping held at the receiver', (listener) => receiver.listen(listener), () => heldIds().size === events.size)
      expect(heldIds()).toEqual(events)

      // The replica holding the most attempts is killed while the receiver holds them.
      const running = await Promise.all([a, b, c].map(async (gateway) => await gateway.webhookAttempts()))
      expect(Math.max(...running)).toBeGreaterThan(0)
      const victim = [a, b, c][running.indexOf(Math.max(...running))] as GatewayProcess
      await victim.kill()
      const survivors = [a, b, c].filter((gateway) => gateway !== victim)
      mode = 'accept'
      // The survivors' held attempts end at their deadline and are retried; the victim's are taken over when their claims lapse.
      await when('every event accepted', (listener) => receiver.listen(listener), () => accepted.size === events.size, 30_000)
      expect(accepted).toEqual(events)
      expect(receiver.received.every((got) => events.has(String(got.headers['webhook-id'])) && got.verifiedBy.length === 1)).toBe(true)
      // An attempt's outcome is saved before it stops running.
      expect(await Promise.all(survivors.map(async (gateway) => await gateway.webhooksSettled(5_000)))).toEqual([true, true])
      const log = (await call(survivors[0] as GatewayProcess, 'GET', `/v1/webhooks/${id}/deliveries`)).body.nodes as Array<{ eventId: string, state: string }>
      expect(log.filter(({ state }) => state === 'delivered').map(({ eventId }) => eventId).sort()).toEqual([...events].sort())

      // Three more pings fail once (503) and wait for their retry; every replica is killed; new ones deliver them.
      mode = 'fail'
      const before = receiver.received.length
      const more = await Promise.all(survivors.concat(survivors[0] as GatewayProcess).slice(0, 3).map(async (gateway) => await call(gateway, 'POST', `/v1/webhooks/${id}/test`)))
      const pending = new Set(more.map(({ body }) => String(body.eventId)))
      await receiver.count(before + 3)
      await Promise.all(survivors.map(async (gateway) => { await gateway.kill() }))
      mode = 'accept'
      const restarted = await Promise.all([replica(), replica(), replica()])
      const [d] = restarted
      await when('the pending events accepted', (listener) => receiver.listen(listener), () => [...pending].every((event) => accepted.has(event)), 30_000)
      expect(await Promise.all(restarted.map(async (gateway) => await gateway.webhooksSettled(5_000)))).toEqual([true, true, true])
      const all = (await call(d as GatewayProcess, 'GET', `/v1/webhooks/${id}/deliveries`)).body.nodes as Array<{ eventId: string, state: string }>
      expect(all.map(({ eventId, state }) => [eventId, state]).sort()).toEqual([...events, ...pending].map((event) => [event, 'delivered']).sort())
      expect(new Set(receiver.received.map((got) => String(got.headers['webhook-id'])))).toEqual(new Set([...events, ...pending]))
    } finally {
      await receiver.close()
    }
  }, 90_000)
})
