import type { ChildProcess } from 'node:child_process'
import { setImmediate } from 'node:timers/promises'
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterEach, expect, it } from 'vitest'
import type { PollRoundMessage } from '../../src/domain/live/events.js'
import type { IdleMessage } from '../../src/domain/webhooks/dispatcher.js'
import type { AttemptMessage } from '../../src/domain/webhooks/service.js'
import { SEED, startEmulator, type RunningEmulator } from '../../src/emulator/index.js'
import { describeWithRedis, freePort, stallOwnRedis, startOwnRedis, stopOwnRedis, TEST_REDIS_URL } from '../helpers/cluster.js'
import { startGatewayOn, TEST_START, type TestGateway } from '../helpers/gateway.js'
import { ManualTime } from '../helpers/manual-time.js'
import { nextEvent, onChannel, when } from '../helpers/wait.js'
import { linkedAll } from '../helpers/cluster-polls.js'
import { Receiver } from '../helpers/webhook-receiver.js'

/**
 * Webhooks on Redis: registrations, pending deliveries and the delivery log shared by the replicas
 * and kept when every replica restarts; a replica that stops mid-attempt has its delivery taken over
 * by another when its claim's lease runs out, with the same webhook-id; while Redis is down,
 * registration answers 503 and deliveries queued meanwhile are sent once it is back. The webhooks'
 * time is one ManualTime for every replica (a lease ends when the test moves it).
 */

const attemptsOf = onChannel<AttemptMessage>('visual-layer:webhooks:attempt')
const idlesOf = onChannel<IdleMessage>('visual-layer:webhooks:idle')
const rounds = onChannel<PollRoundMessage>('visual-layer:live:round')
/** Dispatchers that have looked at the queue and set their timer at least once. */
const idled = new WeakSet<object>()
idlesOf((m) => { idled.add(m.owner) })
/** Resolves once `gw`'s dispatcher has looked at the queue since it started: its timer is on the test's time. */
async function dispatcherIdle (gw: TestGateway): Promise<void> {
  await when('the dispatcher to look at the queue', idlesOf, () => gw.app.webhooks !== null && idled.has(gw.app.webhooks))
}
const DATASET = SEED.datasets.ready

const closing: Array<() => Promise<void>> = []
afterEach(async () => { for (const close of closing.splice(0).reverse()) await close() })

async function cluster (redisUrl = TEST_REDIS_URL): Promise<{ emulator: RunningEmulator, time: ManualTime, start: (env?: Record<string, string>) => Promise<TestGateway> }> {
  const prefix = `test:${randomUUID()}:`
  const emulator = await startEmulator({ clock: TEST_START })
  const time = new ManualTime()
  closing.push(async () => {
    await emulator.close()
    const redis = new Redis(redisUrl)
    const keys = await redis.keys(`${prefix}*`)
    if (keys.length > 0) await redis.del(...keys)
    redis.disconnect()
  })
  const start = async (env: Record<string, string> = {}): Promise<TestGateway> => {
    const gw = await startGatewayOn(emulator, {
      REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix, WEBHOOKS_ALLOW_PRIVATE_TARGETS: '127.0.0.1', WEBHOOKS_ATTEMPT_TIMEOUT_MS: '2000', ...env
    }, { liveTime: new ManualTime(), webhooks: { time } })
    let closed = false
    const close = async (): Promise<void> => { if (!closed) { closed = true; await gw.close() } }
    closing.push(close)
    return { ...gw, close }
  }
  return { emulator, time, start }
}

async function call (gw: TestGateway, method: string, path: string, body?: unknown): Promise<{ status: number, body: any }> {
  const res = await fetch(`${gw.url}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
  const text = await res.text()
  return { status: res.status, body: text === '' ? null : JSON.parse(text) }
}

const attempt = async (gw: TestGateway, id: string): Promise<AttemptMessage> =>
  await nextEvent(`an attempt for ${id}`, attemptsOf, (m) => m.service === gw.app.webhooks && m.webhookId === id)

describeWithRedis('webhooks on Redis', () => {
  it('shares registrations between replicas and keeps them, and what is pending, when every replica restarts', async () => {
    const { start, time } = await cluster()
    const [a, b] = [await start(), await start()]
    const receiver = await Receiver.start((count) => count === 1 ? 500 : 200)
    closing.push(async () => { await receiver.close() })
    const created = await call(a, 'POST', '/v1/webhooks', { url: receiver.url, events: ['dataset.ready'], datasetIds: [DATASET] })
    expect(created.status).toBe(201)
    expect([created.body.storage, created.body.storageNote]).toEqual(['redis', 'Kept in Redis, shared by every replica: registrations, pending deliveries and the delivery log survive restarts.'])
    receiver.secrets.push(created.body.secret)
    const id = created.body.id as string
    expect((await call(b, 'GET', `/v1/webhooks/${id}`)).body.id).toBe(id)
    // A ping fails once and is left pending (its retry 5 s away on the webhooks' time); then every replica stops.
    const failed = nextEvent('the first attempt', attemptsOf, (m) => m.webhookId === id)
    const ping = await call(b, 'POST', `/v1/webhooks/${id}/test`)
    expect((await failed).outcome).toBe('retry')
    await a.close()
    await b.close()
    const c = await start()
    expect((await call(c, 'GET', '/v1/webhooks')).body.nodes.map((w: any) => w.id)).toEqual([id])
    const log = (await call(c, 'GET', `/v1/webhooks/${id}/deliveries`)).body.nodes
    expect(log.map((d: any) => [d.id, d.state, d.attempts.length])).toEqual([[ping.body.id, 'pending', 1]])
    await dispatcherIdle(c)
    const delivered = attempt(c, id)
    time.advance(10_000)
    expect((await delivered).outcome).toBe('delivered')
    expect(receiver.received.map((got) => [got.headers['webhook-id'], got.verifiedBy])).toEqual([[ping.body.eventId, [0]], [ping.body.eventId, [0]]])
    expect((await call(c, 'GET', `/v1/webhooks/${id}/deliveries`)).body.nodes[0].state).toBe('delivered')
  })

  it('redelivers a delivery once when 20 requests on two replicas ask at once (409 for the others), and queues nothing past WEBHOOKS_MAX_PENDING (429)', async () => {
    const { start, time } = await cluster()
    const env = { WEBHOOKS_RETRY_SCHEDULE: '1s', WEBHOOKS_MAX_PENDING: '2' }
    const [a, b] = [await start(env), await start(env)]
    // Two 503s fail the first ping; the redelivered attempt is held (pending) until the receiver closes.
    const receiver = await Receiver.start((count) => count === 3 ? 'hang' : 503, () => time.now())
    closing.push(async () => { await receiver.close() })
    const created = await call(a, 'POST', '/v1/webhooks', { url: receiver.url, events: ['dataset.ready'], datasetIds: [DATASET] })
    const id = created.body.id as string
    await Promise.all([dispatcherIdle(a), dispatcherIdle(b)])
    // The retry is due within 1 s ± 20 % (jitter), once the replica that tried has set its timer.
    let triedBy: unknown = null
    const retried = nextEvent('the ping\'s first attempt', attemptsOf, (m) => {
      if (m.webhookId === id && m.outcome === 'retry') triedBy = m.service
      return triedBy !== null
    })
    const slept = nextEvent('the replica that tried to sleep', idlesOf, (m) => triedBy !== null && m.owner === triedBy && m.running === 0)
    const ping = await call(a, 'POST', `/v1/webhooks/${id}/test`)
    await retried
    await slept
    const failed = nextEvent('the ping to fail', attemptsOf, (m) => m.webhookId === id && m.outcome === 'failed')
    time.advance(1_200)
    await failed
    const redelivered = receiver.count(3)
    const answers = await Promise.all(Array.from({ length: 20 }, async (_, i) =>
      await call(i % 2 === 0 ? a : b, 'POST', `/v1/webhooks/${id}/deliveries/${ping.body.id}/redeliver`)))
    expect(answers.map((answer) => answer.status).sort()).toEqual([202, ...Array<number>(19).fill(409)])
    expect(answers.find((answer) => answer.status === 409)?.body.detail).toBe(`Delivery ${ping.body.id} is pending already: its next attempt is scheduled.`)
    await redelivered
    const secondTried = nextEvent('the second ping\'s first attempt', attemptsOf, (m) => m.webhookId === id && m.eventId !== ping.body.eventId)
    const second = await call(b, 'POST', `/v1/webhooks/${id}/test`)
    expect(second.status).toBe(202)
    expect((await secondTried).outcome).toBe('retry')
    const third = await call(a, 'POST', `/v1/webhooks/${id}/test`)
    expect(third.status).toBe(429)
    expect(third.body.detail).toBe('Nothing was queued: 2 deliveries are pending already (WEBHOOKS_MAX_PENDING). Try again once the receivers have caught up.')
    const log = (await call(b, 'GET', `/v1/webhooks/${id}/deliveries`)).body.nodes
    expect(log.map((d: any) => [d.id, d.state])).toEqual([[second.body.id, 'pending'], [ping.body.id, 'pending']])
    expect(receiver.received.map((got) => got.headers['webhook-id'])).toEqual([ping.body.eventId, ping.body.eventId, ping.body.eventId, second.body.eventId])
  })

  it('hands the delivery of a replica that stopped mid-attempt to another when its lease ends, with the same webhook-id', async () => {
    const { start, time } = await cluster()
    const a = await start()
    const receiver = await Receiver.start((count) => count === 1 ? 'hang' : 200)
    closing.push(async () => { await receiver.close() })
    const created = await call(a, 'POST', '/v1/webhooks', { url: receiver.url, events: ['dataset.ready'], datasetIds: [DATASET] })
    receiver.secrets.push(created.body.secret)
    const id = created.body.id as string
    const arrived = receiver.next()
    const ping = await call(a, 'POST', `/v1/webhooks/${id}/test`)
    await arrived
    // a is stopped while its attempt hangs: it saves no outcome, and its claim stands until the lease ends.
    await a.close()
    const b = await start()
    await dispatcherIdle(b)
    const takenOver = attempt(b, id)
    time.advance(2000 + 5000)
    expect((await takenOver)).toMatchObject({ outcome: 'delivered', attempt: 1 })
    expect(receiver.received.map((got) => [got.headers['webhook-id'], got.verifiedBy])).toEqual([[ping.body.eventId, [0]], [ping.body.eventId, [0]]])
  })

  it('refuses registration with 503 while Redis is stalled, and delivers the events seen meanwhile once it answers again', async () => {
    const port = await freePort()
    const redis: ChildProcess = await startOwnRedis(port)
    closing.push(async () => {
      if (redis.exitCode === null) redis.kill('SIGCONT')
      await stopOwnRedis(redis)
    })
    const { start, time } = await cluster(`redis://127.0.0.1:${port}`)
    const gw = await start({ REDIS_COMMAND_TIMEOUT_MS: '300' })
    const receiver = await Receiver.start()
    closing.push(async () => { await receiver.close() })
    // The dataset's two pollers take their baseline before anything changes.
    const baseline = new Set<string>()
    const polled = nextEvent('the baseline polls', rounds, (m) => {
      if (m.registry === gw.app.live && m.datasetId === DATASET) baseline.add(m.key)
      return baseline.size === 2
    })
    const created = await call(gw, 'POST', '/v1/webhooks', { url: receiver.url, events: ['dataset.status_changed'], datasetIds: [DATASET] })
    receiver.secrets.push(created.body.secret)
    await polled

    await stallOwnRedis(redis)
    const refused = await call(gw, 'POST', '/v1/webhooks', { url: receiver.url, events: ['dataset.ready'], datasetIds: [DATASET] })
    expect(refused.status).toBe(503)
    expect(refused.body).toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE', detail: 'The webhook store the replicas share (Redis) is unavailable: nothing was changed. Try again shortly.'
    })
    // An enrichment (no idempotency key: it needs no Redis) makes the dataset READ_ONLY; its poller sees it at once.
    const changed = nextEvent('the poll that sees READ_ONLY', rounds, (m) => m.registry === gw.app.live && m.datasetId === DATASET && m.outcome === 'changed')
    const enrichment = await call(gw, 'POST', `/v1/datasets/${DATASET}/enrichments`, { models: [{ type: 'CAPTION_IMAGES', modelId: SEED.models.imageCaptioner }] })
    expect(enrichment.status).toBe(202)
    await changed
    await setImmediate()
    expect(receiver.received).toEqual([])

    redis.kill('SIGCONT')
    await linkedAll([gw], (replica) => replica.app.redis?.up === true)
    const delivered = attempt(gw, created.body.id)
    time.advance(1000)
    expect((await delivered).outcome).toBe('delivered')
    expect(receiver.received.map((got) => [got.event.type, got.event.data.previousStatus, got.event.data.status, got.verifiedBy])).toEqual([
      ['dataset.status_changed', 'READY', 'READ_ONLY', [0]]
    ])
  })
})
