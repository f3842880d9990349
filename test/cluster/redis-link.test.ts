import { randomUUID } from 'node:crypto'
import { afterEach, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { describeWithRedis, startCluster, TEST_REDIS_URL } from '../helpers/cluster.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'

const REDIS_URL = TEST_REDIS_URL

describeWithRedis('the link to Redis', () => {
  let gateway: TestGateway | undefined
  afterEach(async () => { await gateway?.close(); gateway = undefined })

  it('is absent without REDIS_URL, and readiness says nothing of Redis', async () => {
    gateway = await startTestGateway()
    expect(gateway.app.redis).toBe(null)
    const ready = await gateway.app.inject({ method: 'GET', url: '/health/ready' })
    expect(ready.statusCode).toBe(200)
    expect(ready.json()).not.toHaveProperty('redis')
  })

  it('prefixes every key with REDIS_KEY_PREFIX, and readiness reports Redis up', async () => {
    const prefix = `test:${randomUUID()}:`
    gateway = await startTestGateway({ REDIS_URL, REDIS_KEY_PREFIX: prefix })
    const redis = gateway.app.redis
    expect(redis).not.toBe(null)
    expect(redis?.key('x')).toBe(`${prefix}x`)
    const ready = await gateway.app.inject({ method: 'GET', url: '/health/ready' })
    expect(ready.statusCode).toBe(200)
    expect(ready.json().redis).toEqual({ status: 'up' })
  })

  it('reports Redis down without making the replica unready: degraded, 200', async () => {
    // Nothing listens on port 1: the link never comes up.
    gateway = await startTestGateway({ REDIS_URL: 'redis://127.0.0.1:1', REDIS_KEY_PREFIX: `test:${randomUUID()}:` })
    const ready = await gateway.app.inject({ method: 'GET', url: '/health/ready' })
    expect(ready.statusCode).toBe(200)
    expect(ready.json()).toEqual({
      status: 'degraded',
      upstream: { status: 'Green', version: '2.42.190' },
      redis: { status: 'down', reason: 'connection lost', since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) }
    })
    // One warning for the outage, whatever the connections and their retries said.
    const lines = gateway.logs.entries().filter((entry) => entry.component === 'redis')
    expect(lines.map((entry) => [entry.level, entry.msg])).toEqual([[40,
      'Redis: connection lost; until it answers, rate limits and connection counts are per replica, writes with an idempotency key are refused and every replica polls for its own subscribers']])
    expect((lines[0]?.err as { message: string }).message).toMatch(/^(commands|pubsub): .*ECONNREFUSED/)
    expect((await gateway.app.metrics.registry.getSingleMetric('vlgw_redis_up')?.get())?.values[0]?.value).toBe(0)
  })
})

describeWithRedis('a test cluster', () => {
  it('runs three replicas on one emulator and one Redis, and leaves no key behind', async () => {
    const cluster = await startCluster()
    const { prefix, redis } = cluster
    expect(cluster.replicas.length).toBe(3)
    expect(new Set(cluster.replicas.map((replica) => replica.url)).size).toBe(3)
    for (const replica of cluster.replicas) expect(replica.app.redis?.key('k')).toBe(`${prefix}k`)
    const probe = new Redis(TEST_REDIS_URL)
    await redis.set(`${prefix}probe`, '1')
    expect(await probe.exists(`${prefix}probe`)).toBe(1)
    await cluster.close()
    expect(await probe.exists(`${prefix}probe`)).toBe(0)
    probe.disconnect()
  })
})
