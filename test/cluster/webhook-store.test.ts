import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import pino from 'pino'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { RedisLink } from '../../src/cluster/redis.js'
import { RedisWebhookStore } from '../../src/cluster/webhooks.js'
import type { Delivery, Webhook } from '../../src/domain/webhooks/model.js'
import { MemoryWebhookStore, StoreFull, type WebhookStore } from '../../src/domain/webhooks/store.js'
import { describeWithRedis, TEST_REDIS_URL } from '../helpers/cluster.js'

/*
 * A claimed delivery stays claimed until its lease ends, whatever is saved of its webhook meanwhile: a
 * replica recording a failure of another of the webhook's queues (failingSince), an enriched copy it
 * follows (copyIds) or a rotated secret made every queue of the webhook due again, and another replica
 * then sent the delivery being sent: a duplicate. Only enabling a disabled webhook makes its queues due.
 */

const LEASE_MS = 10_000
/** WEBHOOKS_MAX_PENDING of these stores. */
const MAX_PENDING = 3
let now = 1_000_000
const clock = (): number => now

const webhook = (overrides: Partial<Webhook> = {}): Webhook => ({
  id: 'wh_1',
  owner: 'owner-a',
  url: 'http://receiver.test/hook',
  events: ['task.updated'],
  datasetIds: ['ds-1'],
  copyIds: [],
  description: null,
  enabled: true,
  disabledReason: null,
  secrets: [{ secret: 'whsec_c2VjcmV0', expiresAt: null }],
  failingSince: null,
  createdAt: new Date(0).toISOString(),
  ...overrides
})

const delivery = (id: string, resource: string): Delivery => ({
  id, webhookId: 'wh_1', eventId: `evt_${id}`, eventType: 'task.updated', resource, payload: '{}', createdAt: now, attempts: [], state: 'pending', nextAttemptAt: now
})

const claimedIds = async (store: WebhookStore): Promise<string[]> => (await store.claimDue(now, 10, LEASE_MS)).map((due) => due.delivery.id).sort()

function storeCases (name: string, open: () => Promise<{ store: WebhookStore, close: () => Promise<void> }>): void {
  let store: WebhookStore
  let close: () => Promise<void>
  beforeEach(async () => {
    now = 1_000_000;
    ({ store, close } = await open())
    expect(await store.create(webhook(), 5)).toBe(true)
    expect(await store.enqueue(delivery('d1', 'task t1'))).toBe(true)
    expect(await store.enqueue(delivery('d2', 'task t2'))).toBe(true)
  })
  afterEach(async () => { await close() })

  it(`${name}: saving an enabled webhook (failingSince, copyIds, secrets) leaves its claimed deliveries claimed`, async () => {
    expect(await claimedIds(store)).toEqual(['d1', 'd2'])
    now += 1_000
    await store.update(webhook({ failingSince: now }))
    await store.update(webhook({ failingSince: now, copyIds: ['ds-copy'] }))
    await store.update(webhook({ failingSince: now, copyIds: ['ds-copy'], secrets: [{ secret: 'whsec_bmV3', expiresAt: null }] }))
    expect(await claimedIds(store)).toEqual([])
    // d1's attempt failed and is due again in 5 s; d2's replica died: its lease runs out.
    await store.finish({ ...delivery('d1', 'task t1'), nextAttemptAt: now + 5_000 })
    now += 5_000
    expect(await claimedIds(store)).toEqual(['d1'])
    now += LEASE_MS
    expect(await claimedIds(store)).toEqual(['d1', 'd2'])
  })

  it(`${name}: enabling a disabled webhook makes its queues due at once`, async () => {
    await store.update(webhook({ enabled: false, disabledReason: 'disabled by its owner' }))
    expect(await claimedIds(store)).toEqual([])
    now += 1_000
    await store.update(webhook())
    expect(await claimedIds(store)).toEqual(['d1', 'd2'])
  })

  it(`${name}: at most WEBHOOKS_MAX_PENDING deliveries pending, a redelivery included; a second redelivery of one is refused`, async () => {
    expect(await store.enqueue(delivery('d3', 'task t3'))).toBe(true)
    await expect(store.enqueue(delivery('d4', 'task t4'))).rejects.toThrow(new StoreFull('3 deliveries are pending already (WEBHOOKS_MAX_PENDING)'))
    expect(await store.delivery('wh_1', 'd4')).toBe(null)
    await store.finish({ ...delivery('d1', 'task t1'), state: 'delivered', nextAttemptAt: null })
    await expect(store.requeue(delivery('d2', 'task t2'))).resolves.toBe(false)
    await expect(store.requeue(delivery('d1', 'task t1'))).resolves.toBe(true)
    await expect(store.requeue(delivery('d1', 'task t1'))).resolves.toBe(false)
    expect((await store.backlog()).pending).toBe(3)
    await store.finish({ ...delivery('d3', 'task t3'), state: 'delivered', nextAttemptAt: null })
    await store.finish({ ...delivery('d1', 'task t1'), state: 'failed', nextAttemptAt: null })
    expect(await store.enqueue(delivery('d5', 'task t5'))).toBe(true)
    await expect(store.requeue(delivery('d3', 'task t3'))).resolves.toBe(true)
    await expect(store.requeue(delivery('d1', 'task t1'))).rejects.toThrow(new StoreFull('3 deliveries are pending already (WEBHOOKS_MAX_PENDING)'))
    expect((await store.delivery('wh_1', 'd1'))?.state).toBe('failed')
  })
}

storeCases('in process', async () => ({ store: new MemoryWebhookStore(MAX_PENDING, 50, clock), close: async () => {} }))

describeWithRedis('on Redis', () => {
  storeCases('on Redis', async () => {
    const prefix = `test:${randomUUID()}:`
    const link = new RedisLink({ url: TEST_REDIS_URL, keyPrefix: prefix, heartbeatMs: 1_000, commandTimeoutMs: 1_000, requestTimeoutMs: 200 }, pino({ level: 'silent' }))
    expect(await link.connected(5_000)).toBe(true)
    return {
      store: new RedisWebhookStore(link, MAX_PENDING, 50, clock),
      close: async () => {
        const redis = new Redis(TEST_REDIS_URL)
        const keys = await redis.keys(`${prefix}*`)
        if (keys.length > 0) await redis.del(...keys)
        await redis.quit()
        await link.close()
      }
    }
  })
})
