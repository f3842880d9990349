import { randomUUID } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'

// Redis on 127.0.0.1:6379 (.ci/run starts it when it does not answer); each test its own key prefix.
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

describe('the link to Redis', () => {
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

  it('reports Redis down without making the replica unready', async () => {
    // Nothing listens on port 1: the link never comes up.
    gateway = await startTestGateway({ REDIS_URL: 'redis://127.0.0.1:1', REDIS_KEY_PREFIX: `test:${randomUUID()}:` })
    const ready = await gateway.app.inject({ method: 'GET', url: '/health/ready' })
    expect(ready.statusCode).toBe(200)
    expect(ready.json().status).toBe('ready')
    expect(ready.json().redis.status).toBe('down')
    expect(ready.json().redis.reason).toMatch(/^not connected \((connecting|reconnecting|close|end|wait)\)$/)
  })
})
