import type { ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { SEED, startEmulator, type RunningEmulator } from '../../src/emulator/index.js'
import { describeWithRedis, freePort, startOwnRedis, stopOwnRedis } from '../helpers/cluster.js'
import { startGatewayOn, TEST_START, type TestGateway } from '../helpers/gateway.js'
import { rawConnection, type RawConnection } from '../helpers/ws.js'
import { tryAgainIn } from '../helpers/rate-limits.js'

/**
 * Two replicas on a Redis of this test's own (its own redis-server on a free port, stopped and
 * started again mid-run, so that no other test's Redis is disturbed). While Redis is down, as the
 * table of docs/deployment.md, "Several replicas", says: reads answer; rate limits are counted by each replica alone
 * (a caller whose shared allowance is spent is served again, up to one allowance per replica), and so
 * are WebSocket connections per caller; an enrichment with an idempotency key is refused with
 * UPSTREAM_UNAVAILABLE and no POST; one without a key goes through. Once Redis is back, the idempotent
 * write works and is shared again, and the connections counted alone are written back into Redis.
 */

const ENRICH = `mutation ($datasetId: ID!, $models: [EnrichmentModelInput!]!, $key: String) {
  enrichDataset(datasetId: $datasetId, models: $models, idempotencyKey: $key) { enrichedDatasetId }
}`
const captioner = { type: 'CAPTION_IMAGES', modelId: SEED.models.imageCaptioner }
const STORE_DOWN = 'The idempotency key could not be checked: the store of idempotency keys the gateway\'s replicas share is unavailable, ' +
  'so this request was refused rather than risk a second enrichment. Nothing was written and nothing was sent to Visual Layer; try again shortly with the same key.'

describeWithRedis('two replicas while their Redis is down', () => {
  let port: number
  let redis: ChildProcess
  let emulator: RunningEmulator
  let replicas: TestGateway[] = []
  const prefix = `test:${randomUUID()}:`
  beforeAll(async () => {
    port = await freePort()
    redis = await startOwnRedis(port)
    emulator = await startEmulator({ clock: TEST_START })
    const env = {
      REDIS_URL: `redis://127.0.0.1:${port}`,
      REDIS_KEY_PREFIX: prefix,
      TRUST_PROXY: '127.0.0.1',
      RATE_LIMIT_PER_MINUTE: '3',
      RATE_LIMIT_MUTATIONS_PER_MINUTE: '0',
      WS_MAX_CONNECTIONS_PER_CALLER: '1',
      REDIS_HEARTBEAT_MS: '200'
    }
    replicas = [await startGatewayOn(emulator, env), await startGatewayOn(emulator, env)]
  })
  const sockets: RawConnection[] = []
  afterAll(async () => {
    for (const connection of sockets) connection.socket.terminate()
    await Promise.all(replicas.map(async (replica) => { await replica.close() }))
    await emulator.close()
    // Its own server: nothing of another test's is in it, and it goes with every key.
    await stopOwnRedis(redis)
  })

  const [r0, r1] = [(): TestGateway => replicas[0] as TestGateway, (): TestGateway => replicas[1] as TestGateway]
  const from = (address: string, requestId = 'req'): Record<string, string> => ({ 'x-forwarded-for': address, 'x-request-id': requestId })
  const posts = (): number => emulator.calls({ method: 'POST', path: '/api/v1/dataset/*/enrich_dataset' }).length
  const read = `{ dataset(id: "${SEED.datasets.ready}") { id status } }`
  const restEnrich = async (gw: TestGateway, key: string, address: string): Promise<{ status: number, body: unknown }> => {
    const res = await fetch(`${gw.url}/v1/datasets/${SEED.datasets.ready}/enrichments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key, ...from(address, 'req-rest') },
      body: JSON.stringify({ models: [captioner] })
    })
    return { status: res.status, body: await res.json() }
  }

  /** A WebSocket of caller `address` on `gw`: acknowledged, or the close code that refused it. */
  const socket = async (gw: TestGateway, address: string): Promise<'open' | number> => {
    try {
      sockets.push(await rawConnection(gw.url, {}, { 'x-forwarded-for': address }))
      return 'open'
    } catch (err) {
      return Number(/^closed (\d+)/.exec((err as Error).message)?.[1] ?? 0)
    }
  }
  const wsHashes = async (): Promise<number> => {
    const probe = new Redis({ port, host: '127.0.0.1' })
    try { return (await probe.keys(`${prefix}slots:ws:r:*`)).length } finally { probe.disconnect() }
  }

  it('keeps answering reads, counts rate limits per replica, refuses idempotent writes without a POST, and shares again once Redis is back', async () => {
    // With Redis: the caller's allowance of 3 is the cluster's.
    for (let i = 0; i < 3; i++) expect((await r0().gql(read, {}, from('10.2.0.1'))).status).toBe(200)
    expect((await r1().gql(read, {}, from('10.2.0.1'))).status).toBe(429)

    // Each replica's link warns once when its outage starts.
    const outage = (gw: TestGateway, from: number): Promise<void> => gw.logs.logged('the outage\'s warning',
      (entry) => entry.level === 40 && String(entry.msg).startsWith('Redis: '), { from })
    const warned = [r0(), r1()].map((gw) => outage(gw, gw.logs.entries().length))
    await stopOwnRedis(redis)
    await Promise.all(warned)
    expect([r0().app.redis?.up, r1().app.redis?.up]).toEqual([false, false])

    // Reads answer, and readiness reports Redis down without failing.
    expect((await r0().gql(read, {}, from('10.2.0.2'))).body).toEqual({ data: { dataset: { id: SEED.datasets.ready, status: 'READY' } } })
    const ready = await fetch(`${r0().url}/health/ready`)
    expect(ready.status).toBe(200)
    expect(((await ready.json()) as { redis: { status: string } }).redis.status).toBe('down')

    // Rate limits: each replica counts alone, so the caller whose shared allowance was spent is served
    // again by each, up to 3; the fourth on one replica is refused by that replica's own count.
    for (let i = 0; i < 3; i++) expect((await r1().gql(read, {}, from('10.2.0.1'))).status).toBe(200)
    const fourth = await r1().gql(read, {}, from('10.2.0.1', 'req-fourth'))
    expect([fourth.status, fourth.body]).toEqual([429, {
      data: null,
      errors: [{ message: `Too many requests: at most 3 a minute for each caller. Try again in ${tryAgainIn(fourth.headers.get('retry-after'))}.`, extensions: { code: 'RATE_LIMITED', requestId: 'req-fourth' } }]
    }])
    expect((await r0().gql(read, {}, from('10.2.0.1'))).status).toBe(200)
    const switched = r1().logs.entries().filter((entry) => String(entry.msg).startsWith('Rate limits: Redis is unavailable'))
    expect(switched.map((entry) => [entry.level, entry.door, entry.msg])).toEqual([[30, 'graphql', 'Rate limits: Redis is unavailable; each replica counts its own requests until it returns']])
    // The warning is the link's, once for the outage (however many connections and features saw it).
    expect(r1().logs.entries().filter((entry) => Number(entry.level) >= 40).map((entry) => [entry.component, entry.msg])).toEqual([['redis',
      'Redis: connection lost; until it answers, rate limits and connection counts are per replica, writes with an idempotency key are refused and every replica polls for its own subscribers']])

    // Connections per caller: each replica counts its own against the ceiling of 1.
    expect([await socket(r0(), '10.2.0.6'), await socket(r1(), '10.2.0.6'), await socket(r0(), '10.2.0.6')]).toEqual(['open', 'open', 1008])

    // An idempotent enrichment is refused, on either door, with nothing sent; the dataset GET before it is its only upstream call.
    const before = posts()
    const refused = await r0().gql(ENRICH, { datasetId: SEED.datasets.ready, models: [captioner], key: 'while-down' }, from('10.2.0.3', 'req-down'))
    expect(refused.body).toEqual({
      data: null,
      errors: [{ message: STORE_DOWN, locations: [{ line: 2, column: 3 }], path: ['enrichDataset'], extensions: { code: 'UPSTREAM_UNAVAILABLE', requestId: 'req-down' } }]
    })
    expect(await restEnrich(r1(), 'while-down', '10.2.0.3')).toEqual({
      status: 503,
      body: {
        type: 'urn:vl-gateway:problem:idempotency-store-unavailable',
        title: 'Idempotency store unavailable',
        status: 503,
        detail: STORE_DOWN,
        code: 'UPSTREAM_UNAVAILABLE',
        requestId: 'req-rest'
      }
    })
    expect(posts()).toBe(before)
    expect(before).toBe(0)

    // Without a key the write goes on.
    const plain = await r1().gql(ENRICH, { datasetId: SEED.datasets.ready, models: [captioner] }, from('10.2.0.4'))
    expect((plain.body.data as { enrichDataset: { enrichedDatasetId: string } }).enrichDataset.enrichedDatasetId).toMatch(/^[0-9a-f-]{36}$/)
    expect(posts()).toBe(1)

    // Redis back on the same port: the idempotent write works, and a duplicate on the other replica replays it.
    // Each replica's link says once that Redis answers again, and each door's counts go back to Redis at its next beat.
    const back = (gw: TestGateway, from: number): Array<Promise<void>> => [
      gw.logs.logged('Redis answering again', (entry) => entry.msg === 'Redis: answering again; state is shared across the replicas again', { from }),
      gw.logs.logged('WebSocket counts in Redis again', (entry) => entry.component === 'websocket' && entry.msg === 'Connection counts: counted in Redis again, across the replicas', { from })
    ]
    const [answering0, counted0] = back(r0(), r0().logs.entries().length)
    const [answering1, counted1] = back(r1(), r1().logs.entries().length)
    redis = await startOwnRedis(port)
    await Promise.all([answering0, answering1])
    expect([r0().app.redis?.up, r1().app.redis?.up]).toEqual([true, true])
    const args = { datasetId: SEED.datasets.readySecond, models: [captioner], key: 'after-return' }
    const first = await r0().gql(ENRICH, args, from('10.2.0.5'))
    const copy = (first.body.data as { enrichDataset: { enrichedDatasetId: string } }).enrichDataset.enrichedDatasetId
    expect(copy).toMatch(/^[0-9a-f-]{36}$/)
    expect((await r1().gql(ENRICH, args, from('10.2.0.5'))).body).toEqual({ data: { enrichDataset: { enrichedDatasetId: copy } } })
    expect(posts()).toBe(2)

    // Each replica wrote the sockets it counted alone back into Redis: the caller now holds two, over its ceiling, on either replica.
    await Promise.all([counted0, counted1])
    expect(await wsHashes()).toBe(2)
    expect([await socket(r0(), '10.2.0.6'), await socket(r1(), '10.2.0.6')]).toEqual([1008, 1008])
    expect(r1().logs.entries().filter((entry) => entry.msg === 'Rate limits: counted in Redis again, for the whole cluster').length).toBe(1)
    expect(r1().logs.entries().filter((entry) => entry.msg === 'Redis: answering again; state is shared across the replicas again').length).toBe(1)
  })
})
