import { afterEach, describe, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import type { IdleMessage } from '../../src/domain/webhooks/dispatcher.js'
import type { AttemptMessage } from '../../src/domain/webhooks/service.js'
import type { ResolvedAddress } from '../../src/domain/webhooks/targets.js'
import type { TestGateway } from '../helpers/gateway.js'
import { ManualTime } from '../helpers/manual-time.js'
import { freshToken, startModeGateway, type AuthMode } from '../helpers/modes.js'
import { nextEvent, onChannel } from '../helpers/wait.js'
import { Receiver, type Answer, type Received } from '../helpers/webhook-receiver.js'

/**
 * Deliveries to a real receiver (an HTTP server of the test verifying every signature with
 * standardwebhooks): retries with the same webhook-id at growing intervals on the webhooks' ManualTime,
 * 410 disabling, a receiver that never answers holding back nobody else, the per-target cap, DNS
 * re-checked at each attempt, secret rotation. In jwt and none modes (passthrough has no webhooks:
 * registration.test.ts).
 */

const DATASET = SEED.datasets.ready
const attemptsOf = onChannel<AttemptMessage>('visual-layer:webhooks:attempt')
const idlesOf = onChannel<IdleMessage>('visual-layer:webhooks:idle')

const gateways: TestGateway[] = []
const receivers: Receiver[] = []
afterEach(async () => {
  await Promise.all(gateways.splice(0).map(async (gw) => { await gw.close() }))
  await Promise.all(receivers.splice(0).map(async (r) => { await r.close() }))
})

describe.each(['none', 'jwt'] as AuthMode[])('webhook deliveries (AUTH_MODE=%s)', (mode) => {
  let gw: TestGateway
  let time: ManualTime
  let dns: Map<string, string>

  async function start (env: Record<string, string> = {}): Promise<void> {
    time = new ManualTime()
    dns = new Map()
    const resolver = async (host: string): Promise<ResolvedAddress[]> => {
      const address = dns.get(host)
      if (address === undefined) throw Object.assign(new Error(`no ${host}`), { code: 'ENOTFOUND' })
      return [{ address, family: 4 }]
    }
    gw = await startModeGateway(mode, { WEBHOOKS_ALLOW_PRIVATE_TARGETS: '127.0.0.1', WEBHOOKS_RETRY_SCHEDULE: '1s,4s,16s', ...env }, {
      liveTime: new ManualTime(),
      webhooks: { time, resolver }
    })
    gateways.push(gw)
  }

  async function receiver (answer?: (count: number, received: Received) => Answer): Promise<Receiver> {
    const r = await Receiver.start(answer, () => time.now())
    receivers.push(r)
    return r
  }

  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number, body: any }> => {
    const token = freshToken(mode)
    const res = await fetch(`${gw.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    const text = await res.text()
    return { status: res.status, body: text === '' ? null : JSON.parse(text) }
  }

  async function register (r: Receiver, url = r.url): Promise<string> {
    const created = await call('POST', '/v1/webhooks', { url, events: ['dataset.ready'], datasetIds: [DATASET] })
    expect(created.status).toBe(201)
    r.secrets.push(created.body.secret)
    return created.body.id
  }

  /** The next attempt's outcome of webhook `id` (listening starts now). */
  const attempt = async (id: string): Promise<AttemptMessage> =>
    await nextEvent(`an attempt for ${id}`, attemptsOf, (m) => m.service === gw.app.webhooks && m.webhookId === id)
  /** The dispatcher going to sleep with nothing running (listening starts now). */
  const idle = async (): Promise<IdleMessage> =>
    await nextEvent('the dispatcher idle', idlesOf, (m) => m.owner === gw.app.webhooks && m.running === 0)

  /** The value of a gateway metric with these labels (undefined when it has none). */
  const metric = async (name: string, labels: Record<string, string> = {}): Promise<number | undefined> => {
    const found = (await gw.app.metrics.registry.getMetricsAsJSON()).find((m) => m.name === name)
    return found?.values.find((v) => Object.entries(labels).every(([key, value]) => v.labels[key] === value))?.value
  }

  it('sends a ping signed per Standard Webhooks, and logs it delivered', async () => {
    await start()
    const r = await receiver()
    const id = await register(r)
    const outcome = attempt(id)
    const ping = await call('POST', `/v1/webhooks/${id}/test`)
    expect(ping.status).toBe(202)
    expect(await outcome).toMatchObject({ outcome: 'delivered', attempt: 1 })
    expect(r.received).toHaveLength(1)
    const [got] = r.received as [Received]
    expect(got.verifiedBy).toEqual([0])
    expect(got.event).toEqual({ id: ping.body.eventId, type: 'webhook.ping', timestamp: got.event.timestamp, data: { webhookId: id } })
    expect(got.headers['webhook-id']).toBe(ping.body.eventId)
    expect(got.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/=]{44}$/)
    const log = await call('GET', `/v1/webhooks/${id}/deliveries`)
    expect(log.body.nodes).toHaveLength(1)
    expect(log.body.nodes[0]).toMatchObject({
      id: ping.body.id, eventId: ping.body.eventId, eventType: 'webhook.ping', resource: `ping ${ping.body.eventId}`, state: 'delivered', nextAttemptAt: null
    })
    expect(log.body.nodes[0].attempts.map((a: any) => [a.statusCode, a.error, a.responseBody])).toEqual([[200, null, 'ok']])
    // No secret in any log line.
    expect(gw.logs.entries().filter((entry) => JSON.stringify(entry).includes(r.secrets[0] as string))).toEqual([])
    expect(gw.logs.entries().filter((entry) => entry.msg === 'webhook delivery attempt 1: delivered')).toHaveLength(1)
  })

  it('tries a receiver answering 500 three times then 200 four times, with the same webhook-id, at growing intervals', async () => {
    await start()
    const r = await receiver((count) => count <= 3 ? 500 : 200)
    const id = await register(r)
    let outcome = attempt(id)
    let slept = idle()
    await call('POST', `/v1/webhooks/${id}/test`)
    const outcomes: string[] = []
    const depths: Array<[number | undefined, number | undefined]> = []
    for (let i = 0; i < 4; i++) {
      outcomes.push((await outcome).outcome)
      if (i === 3) break
      const { nextInMs } = await slept
      depths.push([await metric('vlgw_webhook_queue_depth'), await metric('vlgw_webhook_oldest_pending_seconds')])
      outcome = attempt(id)
      slept = idle()
      time.advance(nextInMs)
    }
    expect(outcomes).toEqual(['retry', 'retry', 'retry', 'delivered'])
    expect(r.received.map((got) => got.verifiedBy)).toEqual([[0], [0], [0], [0]])
    expect(new Set(r.received.map((got) => got.headers['webhook-id'])).size).toBe(1)
    const gaps = r.received.slice(1).map((got, i) => got.at - (r.received[i] as Received).at)
    // 1 s, 4 s and 16 s, each within ±20 % jitter: every gap longer than the one before.
    expect(gaps[0]).toBeGreaterThanOrEqual(800)
    expect(gaps[0]).toBeLessThanOrEqual(1200)
    expect(gaps[1]).toBeGreaterThanOrEqual(3200)
    expect(gaps[1]).toBeLessThanOrEqual(4800)
    expect(gaps[2]).toBeGreaterThanOrEqual(12_800)
    expect(gaps[2]).toBeLessThanOrEqual(19_200)
    const log = await call('GET', `/v1/webhooks/${id}/deliveries`)
    expect(log.body.nodes[0].attempts.map((a: any) => a.statusCode)).toEqual([500, 500, 500, 200])
    expect(log.body.nodes[0].state).toBe('delivered')
    // One pending while it was retried, ageing with the webhooks' time; none after.
    expect(depths.map(([depth]) => depth)).toEqual([1, 1, 1])
    expect(depths.map(([, age]) => age)).toEqual([0, (r.received[1] as Received).at / 1000, (r.received[2] as Received).at / 1000])
    expect([await metric('vlgw_webhook_queue_depth'), await metric('vlgw_webhook_oldest_pending_seconds')]).toEqual([0, 0])
    expect(await Promise.all(['1', '2', '3'].map(async (attempt) => await metric('vlgw_webhook_deliveries_total', { outcome: 'retry', attempt }))))
      .toEqual([1, 1, 1])
    expect(await metric('vlgw_webhook_deliveries_total', { outcome: 'delivered', attempt: '4' })).toBe(1)
  })

  it('gives up after the schedule, and redelivers on request with the same webhook-id', async () => {
    await start({ WEBHOOKS_RETRY_SCHEDULE: '1s' })
    const r = await receiver((count) => count <= 2 ? 503 : 200)
    const id = await register(r)
    let outcome = attempt(id)
    const slept = idle()
    const ping = await call('POST', `/v1/webhooks/${id}/test`)
    expect((await outcome).outcome).toBe('retry')
    outcome = attempt(id)
    time.advance((await slept).nextInMs)
    expect((await outcome).outcome).toBe('failed')
    const failed = (await call('GET', `/v1/webhooks/${id}/deliveries`)).body.nodes[0]
    expect([failed.state, failed.nextAttemptAt, failed.attempts.length]).toEqual(['failed', null, 2])
    outcome = attempt(id)
    const again = await call('POST', `/v1/webhooks/${id}/deliveries/${ping.body.id}/redeliver`)
    expect(again.status).toBe(202)
    expect((await outcome).outcome).toBe('delivered')
    expect(r.received.map((got) => got.headers['webhook-id'])).toEqual([ping.body.eventId, ping.body.eventId, ping.body.eventId])
    const conflict = await call('POST', `/v1/webhooks/${id}/deliveries/dlv_${'0'.repeat(32)}/redeliver`)
    expect(conflict.status).toBe(404)
  })

  it('disables a webhook whose receiver answers 410, records webhook.disabled, and resumes when PATCHed enabled', async () => {
    await start()
    const r = await receiver((count) => count === 1 ? 410 : 200)
    const id = await register(r)
    const outcome = attempt(id)
    await call('POST', `/v1/webhooks/${id}/test`)
    expect((await outcome).outcome).toBe('gone')
    const webhook = (await call('GET', `/v1/webhooks/${id}`)).body
    expect([webhook.enabled, webhook.disabledReason]).toEqual([false, 'the receiver answered 410 Gone'])
    expect([await metric('vlgw_webhooks_disabled'), await metric('vlgw_webhook_deliveries_total', { outcome: 'gone', attempt: '1' })]).toEqual([1, 1])
    const log = (await call('GET', `/v1/webhooks/${id}/deliveries`)).body.nodes
    expect(log.map((d: any) => [d.eventType, d.state])).toEqual([['webhook.disabled', 'recorded'], ['webhook.ping', 'failed']])
    expect(log[0].event.data).toEqual({ webhookId: id, reason: 'the receiver answered 410 Gone' })
    // Disabled: a new ping waits (the dispatcher looked at the queue and sent nothing).
    const slept = idle()
    const queued = await call('POST', `/v1/webhooks/${id}/test`)
    await slept
    expect(r.received).toHaveLength(1)
    const resumed = attempt(id)
    expect((await call('PATCH', `/v1/webhooks/${id}`, { enabled: true })).body.enabled).toBe(true)
    expect((await resumed).outcome).toBe('delivered')
    expect(await metric('vlgw_webhooks_disabled')).toBe(0)
    expect(r.received.map((got) => got.headers['webhook-id'])).toEqual([r.received[0]?.headers['webhook-id'], queued.body.eventId])
  })

  it('disables a webhook that failed every attempt for WEBHOOKS_DISABLE_AFTER_MS', async () => {
    await start({ WEBHOOKS_DISABLE_AFTER_MS: '4500', WEBHOOKS_RETRY_SCHEDULE: '3s,3s,3s' })
    const r = await receiver(() => 500)
    const id = await register(r)
    let outcome = attempt(id)
    let slept = idle()
    await call('POST', `/v1/webhooks/${id}/test`)
    const outcomes: string[] = []
    for (let i = 0; i < 3; i++) {
      outcomes.push((await outcome).outcome)
      if ((await call('GET', `/v1/webhooks/${id}`)).body.enabled === false) break
      const { nextInMs } = await slept
      outcome = attempt(id)
      slept = idle()
      time.advance(nextInMs)
    }
    const webhook = (await call('GET', `/v1/webhooks/${id}`)).body
    expect(webhook.enabled).toBe(false)
    expect(webhook.disabledReason).toMatch(/^every attempt failed for [4-7] seconds \(WEBHOOKS_DISABLE_AFTER_MS\)$/)
    // Attempts at 0, 2.4-3.6 s and 4.8-7.2 s (each delay jittered by ±20 %): the third is always past
    // 4.5 s of failing, the second never.
    expect(outcomes).toEqual(['retry', 'retry', 'retry'])
    expect(r.received).toHaveLength(3)
  })

  it('lets a receiver that never answers hold back no other webhook, within its per-target cap, until its deadline', async () => {
    await start({ WEBHOOKS_MAX_IN_FLIGHT_PER_TARGET: '1', WEBHOOKS_ATTEMPT_TIMEOUT_MS: '5000' })
    const slow = await receiver(() => 'hang')
    const fast = await receiver()
    const slowA = await register(slow)
    const slowB = await register(slow)
    const quick = await register(fast)
    await call('POST', `/v1/webhooks/${slowA}/test`)
    await slow.count(1)
    // The second webhook of the same receiver waits for the slot; the other receiver's is sent at once.
    const quickDone = attempt(quick)
    await call('POST', `/v1/webhooks/${slowB}/test`)
    await call('POST', `/v1/webhooks/${quick}/test`)
    expect((await quickDone).outcome).toBe('delivered')
    expect([slow.received.length, fast.received.length]).toEqual([1, 1])
    // The deadline (on the webhooks' time) ends the hanging attempt; the slot goes to the next.
    const timedOut = attempt(slowA)
    const next = slow.next()
    time.advance(5000)
    expect(await timedOut).toMatchObject({ outcome: 'retry', attempt: 1 })
    expect(JSON.parse((await next).body).data).toEqual({ webhookId: slowB })
    const log = (await call('GET', `/v1/webhooks/${slowA}/deliveries`)).body.nodes
    expect(log[0].attempts.map((a: any) => [a.statusCode, a.error])).toEqual([[null, 'no answer before the attempt\'s deadline (WEBHOOKS_ATTEMPT_TIMEOUT_MS)']])
  })

  it('resolves the target again at each attempt: a DNS change to a private or metadata address is refused', async () => {
    await start()
    const r = await receiver()
    const port = new URL(r.url).port
    dns.set('partner.example', '127.0.0.1')
    const id = await register(r, `http://partner.example:${port}/hooks`)
    let outcome = attempt(id)
    await call('POST', `/v1/webhooks/${id}/test`)
    expect((await outcome).outcome).toBe('delivered')
    for (const address of ['169.254.169.254', '10.0.0.7']) {
      dns.set('partner.example', address)
      outcome = attempt(id)
      await call('POST', `/v1/webhooks/${id}/test`)
      expect((await outcome).outcome).toBe('retry')
    }
    expect(r.received).toHaveLength(1)
    const log = (await call('GET', `/v1/webhooks/${id}/deliveries`)).body.nodes
    const refusal = (address: string): string => `refused: its host partner.example resolves to ${address}, a loopback, private, link-local or reserved address ` +
      '(WEBHOOKS_ALLOW_PRIVATE_TARGETS does not list it)'
    expect(log.map((d: any) => d.attempts.map((a: any) => [a.statusCode, a.error]))).toEqual([
      [[null, refusal('10.0.0.7')]], [[null, refusal('169.254.169.254')]], [[200, null]]
    ])
    // Registration refuses it the same way.
    const refused = await call('POST', '/v1/webhooks', { url: `http://partner.example:${port}/x`, events: ['dataset.ready'], datasetIds: [DATASET] })
    expect(refused.status).toBe(400)
  })

  it('signs with both secrets during a rotation\'s grace period, then with the new one alone', async () => {
    await start()
    const r = await receiver()
    const id = await register(r)
    const rotated = await call('POST', `/v1/webhooks/${id}/rotate-secret?gracePeriodSeconds=60`)
    r.secrets.push(rotated.body.secret)
    let outcome = attempt(id)
    await call('POST', `/v1/webhooks/${id}/test`)
    await outcome
    expect(r.received[0]?.verifiedBy).toEqual([0, 1])
    expect(String(r.received[0]?.headers['webhook-signature']).split(' ')).toHaveLength(2)
    time.advance(60_000)
    outcome = attempt(id)
    await call('POST', `/v1/webhooks/${id}/test`)
    await outcome
    expect(r.received[1]?.verifiedBy).toEqual([1])
  })
})
