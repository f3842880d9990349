import type { ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { Client as SseClient } from 'graphql-sse'
import type { Client } from 'graphql-ws'
import type WebSocket from 'ws'
import { SEED, startEmulator, type RunningEmulator } from '../../src/emulator/index.js'
import { describeWithRedis, freePort, stallOwnRedis, startOwnRedis, stopOwnRedis } from '../helpers/cluster.js'
import { anyRound, leasesInAll, pollsByReplica, pollsLogged, roundLog, statusQuery, type StatusEvent } from '../helpers/cluster-polls.js'
import { startGatewayOn, type TestGateway } from '../helpers/gateway.js'
import { recordSse, sseClient } from '../helpers/sse.js'
import { whenAsked } from '../helpers/wait.js'
import { rawConnection, record, wsClient } from '../helpers/ws.js'

/**
 * A stalled Redis (SIGSTOP: its socket stays open, nothing answers) must not hang a replica: every
 * Redis wait has a deadline (REDIS_COMMAND_TIMEOUT_MS, short here so that the test is quick), then each
 * feature falls back as docs/deployment.md, "Several replicas", says, and the replica says it is degraded (readiness,
 * the vlgw_redis_up gauge at 0, one warning line). Two replicas on a redis-server of the test's own; rate
 * limits on, since their count is what every request used to wait for. SIGCONT: back to normal, with
 * one line saying so. Every wait is for an answer or an event; none is a sleep.
 */

const DEADLINE_MS = 200
const INTERVAL = 300
const STORE_DOWN = 'The idempotency key could not be checked: the store of idempotency keys the gateway\'s replicas share is unavailable, ' +
  'so this request was refused rather than risk a second enrichment. Nothing was written and nothing was sent to Visual Layer; try again shortly with the same key.'
const ENRICH = `mutation ($key: String) {
  enrichDataset(datasetId: "${SEED.datasets.ready}", models: [{ type: "CAPTION_IMAGES", modelId: "vl_image_captioner_v00" }], idempotencyKey: $key) { enrichedDatasetId }
}`
const DEGRADED_LINE = `Redis: no answer within ${DEADLINE_MS} ms; until it answers, rate limits and connection counts are per replica, ` +
  'writes with an idempotency key are refused and every replica polls for its own subscribers'
const RECOVERED_LINE = 'Redis: answering again; state is shared across the replicas again'

/** Settles with `promise`, or fails naming what got no answer (a hang would otherwise only show as the test's timeout). */
async function answered<T> (what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const hung = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`no answer within 10 s: ${what}`)) }, 10_000) })
  try {
    return await Promise.race([promise, hung])
  } finally {
    clearTimeout(timer)
  }
}

async function gauge (replica: TestGateway, name: string): Promise<number | undefined> {
  const metric = replica.app.metrics.registry.getSingleMetric(name)
  return metric === undefined ? undefined : (await metric.get()).values[0]?.value
}

describeWithRedis('two replicas while their Redis is stalled (SIGSTOP)', () => {
  let redis: ChildProcess
  let emulator: RunningEmulator
  let replicas: TestGateway[] = []
  const ws: Client[] = []
  const sse: Array<SseClient<boolean>> = []
  const sockets: WebSocket[] = []
  beforeAll(async () => {
    const port = await freePort()
    redis = await startOwnRedis(port)
    emulator = await startEmulator({ clock: new Date('2026-03-02T12:00:00Z') })
    const env = {
      REDIS_URL: `redis://127.0.0.1:${port}`,
      REDIS_KEY_PREFIX: `test:${randomUUID()}:`,
      REDIS_COMMAND_TIMEOUT_MS: String(DEADLINE_MS),
      REDIS_HEARTBEAT_MS: '200',
      RATE_LIMIT_PER_MINUTE: '1000',
      RATE_LIMIT_MUTATIONS_PER_MINUTE: '100',
      POLL_INTERVAL_MS: String(INTERVAL)
    }
    replicas = [await startGatewayOn(emulator, env), await startGatewayOn(emulator, env)]
  })
  afterAll(async () => {
    if (redis.exitCode === null) redis.kill('SIGCONT')
    for (const socket of sockets) socket.terminate()
    for (const client of sse) client.dispose()
    await Promise.all(ws.map(async (client) => { await client.dispose() }))
    await Promise.all(replicas.map(async (replica) => { await replica.close() }))
    await emulator.close()
    await stopOwnRedis(redis)
  })

  const posts = (): number => emulator.calls({ method: 'POST', path: '/api/v1/dataset/*/enrich_dataset' }).length
  const warnings = (replica: TestGateway): Array<Record<string, unknown>> => replica.logs.entries().filter((entry) => Number(entry.level) >= 40)
  const ready = async (replica: TestGateway): Promise<{ status: number, body: Record<string, unknown> }> => {
    const res = await fetch(`${replica.url}/health/ready`)
    return { status: res.status, body: await res.json() as Record<string, unknown> }
  }

  it('answers every door, refuses idempotent writes, keeps polling and says it is degraded; back to normal on SIGCONT', async () => {
    const [r0, r1] = replicas as [TestGateway, TestGateway]
    // Before the stall: a subscriber on each replica follows an indexing dataset, and one replica polls it for both.
    const id = SEED.datasets.indexing
    const following = replicas.map((replica) => {
      const client = wsClient(replica.url)
      ws.push(client)
      return record<StatusEvent>(client, statusQuery(id, true))
    })
    await Promise.all(following.map(async (sub) => { await sub.received(1) }))
    await leasesInAll(replicas, 1)
    for (const replica of replicas) {
      expect([await gauge(replica, 'vlgw_redis_up'), await gauge(replica, 'vlgw_redis_timeouts_total')]).toEqual([1, 0])
      expect(warnings(replica)).toEqual([])
    }

    await stallOwnRedis(redis)

    // Polls go on, each replica's for its own subscribers: both hear the next step of the indexing while Redis is stopped.
    const polledBefore = await pollsByReplica(replicas)
    await whenAsked('two polls of a followed dataset by each replica', anyRound(replicas),
      async () => (await pollsByReplica(replicas)).every((n, i) => n >= (polledBefore[i] ?? 0) + 2))
    emulator.advance(3000)
    await Promise.all(following.map(async (sub) => { await sub.received(2) }))
    for (const sub of following) {
      expect(sub.events.map((event) => event.data?.datasetStatusChanged)).toEqual([
        { id, status: 'INDEXING', progress: 14 },
        { id, status: 'INDEXING', progress: 22 }
      ])
    }

    for (const [i, replica] of replicas.entries()) {
      const requestId = `stalled-${i}`
      expect((await answered('{ __typename }', replica.gql('{ __typename }'))).body).toEqual({ data: { __typename: 'Query' } })
      const rest = await answered('REST GET', fetch(`${replica.url}/v1/datasets/${SEED.datasets.ready}`))
      expect([rest.status, ((await rest.json()) as { id: string }).id]).toEqual([200, SEED.datasets.ready])

      // connection_init is acknowledged, and a new subscription over WebSocket and SSE gets its state.
      const socket = await answered('WebSocket connection_init', rawConnection(replica.url))
      sockets.push(socket.socket)
      const client = wsClient(replica.url)
      ws.push(client)
      const overWs = record<StatusEvent>(client, statusQuery(SEED.datasets.error))
      const stream = sseClient(replica.url, false)
      sse.push(stream)
      const overSse = recordSse<StatusEvent>(stream, statusQuery(SEED.datasets.error))
      await answered('a new WebSocket subscription', overWs.done)
      await answered('a new SSE subscription', overSse.done)
      for (const sub of [overWs, overSse]) expect(sub.events.map((event) => event.data?.datasetStatusChanged)).toEqual([{ id: SEED.datasets.error, status: 'ERROR', progress: 37 }])

      // An enrichment with a key is refused on both doors, as while Redis is down: nothing is sent.
      const graphql = await answered('an idempotent enrichment', replica.gql(ENRICH, { key: `stalled-${i}` }, { 'x-request-id': requestId }))
      expect(graphql.body).toEqual({
        data: null,
        errors: [{ message: STORE_DOWN, locations: [{ line: 2, column: 3 }], path: ['enrichDataset'], extensions: { code: 'UPSTREAM_UNAVAILABLE', requestId } }]
      })
      const restWrite = await answered('an idempotent REST enrichment', fetch(`${replica.url}/v1/datasets/${SEED.datasets.ready}/enrichments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `stalled-rest-${i}`, 'x-request-id': requestId },
        body: JSON.stringify({ models: [{ type: 'CAPTION_IMAGES', modelId: 'vl_image_captioner_v00' }] })
      }))
      expect([restWrite.status, await restWrite.json()]).toEqual([503, {
        type: 'urn:vl-gateway:problem:idempotency-store-unavailable',
        title: 'Idempotency store unavailable',
        status: 503,
        detail: STORE_DOWN,
        code: 'UPSTREAM_UNAVAILABLE',
        requestId
      }])

      // Degraded, and saying so: readiness stays 200 (the replica serves all but idempotent writes), the gauge is 1, one warning.
      const readiness = await answered('readiness', ready(replica))
      expect(readiness).toEqual({
        status: 200,
        body: {
          status: 'degraded',
          upstream: { status: 'Green', version: '2.42.190' },
          redis: { status: 'down', reason: `no answer within ${DEADLINE_MS} ms`, since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) }
        }
      })
      expect(await gauge(replica, 'vlgw_redis_up')).toBe(0)
      // At least the wait that found the stall passed the deadline (how many more did depends on what was in flight then).
      expect(await gauge(replica, 'vlgw_redis_timeouts_total')).toBeGreaterThanOrEqual(1)
      // Besides the refused writes' own lines (a request's error is logged with its id), one warning for the outage.
      expect(warnings(replica).filter((entry) => entry.requestId === undefined).map((entry) => [entry.level, entry.component, entry.msg])).toEqual([[40, 'redis', DEGRADED_LINE]])
      expect(new Set(warnings(replica).filter((entry) => entry.requestId !== undefined).map((entry) => entry.requestId))).toEqual(new Set([requestId]))
    }
    expect(posts()).toBe(0)

    const recovered = replicas.map(async (replica) => { await replica.logs.logged(RECOVERED_LINE, (entry) => entry.msg === RECOVERED_LINE) })
    redis.kill('SIGCONT')

    // Back: readiness says ready, the gauge 0, one line each, and the idempotent write goes through once for the cluster.
    await Promise.all(recovered)
    for (const replica of replicas) {
      expect(await ready(replica)).toEqual({ status: 200, body: { status: 'ready', upstream: { status: 'Green', version: '2.42.190' }, redis: { status: 'up' } } })
      expect(await gauge(replica, 'vlgw_redis_up')).toBe(1)
      expect(replica.logs.entries().filter((entry) => entry.msg === RECOVERED_LINE).map((entry) => [entry.level, entry.component])).toEqual([[30, 'redis']])
      expect(warnings(replica).filter((entry) => entry.requestId === undefined)).toHaveLength(1)
    }
    const first = await r0.gql(ENRICH, { key: 'after-stall' })
    const copy = (first.body.data as { enrichDataset: { enrichedDatasetId: string } }).enrichDataset.enrichedDatasetId
    expect(copy).toMatch(/^[0-9a-f-]{36}$/)
    expect((await r1.gql(ENRICH, { key: 'after-stall' })).body).toEqual({ data: { enrichDataset: { enrichedDatasetId: copy } } })
    expect(posts()).toBe(1)
    // And one replica polls for the cluster again (the subscribers' next state comes from it).
    await leasesInAll(replicas, 1)
    const log = roundLog(replicas, id)
    await pollsLogged(log, 0, 4)
    log.close()
    // The other follows (each replica polling for itself would follow nothing), and one replica polls at a time: the
    // poller changes at most once (a holder that a busy machine made late to renew hands the lease on).
    const polls = log.polls()
    expect(log.rounds.filter((round) => round.outcome === 'followed').length).toBeGreaterThanOrEqual(1)
    expect(polls.filter((round, i) => i > 0 && round.replica !== polls[i - 1]?.replica).length).toBeLessThanOrEqual(1)
  }, 60_000)
})

describeWithRedis('an idempotent write that is the first to find Redis stalled', () => {
  let redis: ChildProcess
  let emulator: RunningEmulator
  let gateway: TestGateway
  beforeAll(async () => {
    const port = await freePort()
    redis = await startOwnRedis(port)
    emulator = await startEmulator({ clock: new Date('2026-03-02T12:00:00Z') })
    // Nothing else asks Redis meanwhile (no rate limits, no subscriber, heartbeats a minute apart): the write's claim meets the stall.
    gateway = await startGatewayOn(emulator, {
      REDIS_URL: `redis://127.0.0.1:${port}`,
      REDIS_KEY_PREFIX: `test:${randomUUID()}:`,
      REDIS_COMMAND_TIMEOUT_MS: String(DEADLINE_MS),
      REDIS_HEARTBEAT_MS: '60000'
    })
  })
  afterAll(async () => {
    if (redis.exitCode === null) redis.kill('SIGCONT')
    await gateway.close()
    await emulator.close()
    await stopOwnRedis(redis)
  })

  it('is refused after the deadline, and its claim is withdrawn: the key is free as soon as Redis resumes', async () => {
    const posts = (): number => emulator.calls({ method: 'POST', path: '/api/v1/dataset/*/enrich_dataset' }).length
    await stallOwnRedis(redis)
    const refused = await answered('an idempotent enrichment', gateway.gql(ENRICH, { key: 'met-the-stall' }, { 'x-request-id': 'req-met' }))
    expect(refused.body).toEqual({
      data: null,
      errors: [{ message: STORE_DOWN, locations: [{ line: 2, column: 3 }], path: ['enrichDataset'], extensions: { code: 'UPSTREAM_UNAVAILABLE', requestId: 'req-met' } }]
    })
    expect([posts(), await gauge(gateway, 'vlgw_redis_timeouts_total'), await gauge(gateway, 'vlgw_redis_up')]).toEqual([0, 1, 0])

    const recovered = gateway.logs.logged(RECOVERED_LINE, (entry) => entry.msg === RECOVERED_LINE)
    redis.kill('SIGCONT')
    await recovered
    expect(gateway.app.redis?.up).toBe(true)
    // The claim sent into the stall ran when Redis resumed, and its withdrawal right behind it: the
    // same key is a first call again (not a duplicate waiting for a write that never happened).
    const again = await answered('the same key after the stall', gateway.gql(ENRICH, { key: 'met-the-stall' }))
    expect((again.body.data as { enrichDataset: { enrichedDatasetId: string } } | undefined)?.enrichDataset.enrichedDatasetId).toMatch(/^[0-9a-f-]{36}$/)
    expect(posts()).toBe(1)
  })
})

describeWithRedis('a request that meets a stalled Redis, before the command deadline has passed', () => {
  const COMMAND_DEADLINE_MS = 5000
  let redis: ChildProcess
  let emulator: RunningEmulator
  let gateway: TestGateway
  beforeAll(async () => {
    const port = await freePort()
    redis = await startOwnRedis(port)
    emulator = await startEmulator({ clock: new Date('2026-03-02T12:00:00Z') })
    // A long command deadline and a short request-path one: every request counts a rate limit in Redis;
    // nothing else asks Redis meanwhile (heartbeats a minute apart).
    gateway = await startGatewayOn(emulator, {
      REDIS_URL: `redis://127.0.0.1:${port}`,
      REDIS_KEY_PREFIX: `test:${randomUUID()}:`,
      REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_DEADLINE_MS),
      REDIS_REQUEST_TIMEOUT_MS: '50',
      REDIS_HEARTBEAT_MS: '60000',
      RATE_LIMIT_PER_MINUTE: '1000'
    })
  })
  afterAll(async () => {
    if (redis.exitCode === null) redis.kill('SIGCONT')
    await gateway.close()
    await emulator.close()
    await stopOwnRedis(redis)
  })

  it('is answered while its Redis command is still pending, counted in this replica; the command finishes on SIGCONT and no outage is declared', async () => {
    const link = gateway.app.redis
    expect(link?.up).toBe(true)
    await stallOwnRedis(redis)

    // Answered while the link still waits for the command (no outage yet: the 5 s deadline has not passed).
    expect((await answered('{ __typename }', gateway.gql('{ __typename }'))).body).toEqual({ data: { __typename: 'Query' } })
    expect([link?.outage, await gauge(gateway, 'vlgw_redis_timeouts_total'), await gauge(gateway, 'vlgw_redis_up')]).toEqual([null, 0, 1])
    // So is a WebSocket's connection_init, whose connection slot is taken in Redis.
    const socket = await answered('WebSocket connection_init', rawConnection(gateway.url))
    socket.socket.terminate()
    expect([link?.outage, await gauge(gateway, 'vlgw_redis_timeouts_total'), await gauge(gateway, 'vlgw_redis_up')]).toEqual([null, 0, 1])

    // Resumed: the commands the requests stopped waiting for are answered; no wait passed the command deadline.
    redis.kill('SIGCONT')
    expect(await answered('a PING after SIGCONT', link!.run(async (r) => await r.ping()))).toBe('PONG')
    expect([link?.outage, await gauge(gateway, 'vlgw_redis_timeouts_total'), await gauge(gateway, 'vlgw_redis_up')]).toEqual([null, 0, 1])
    expect(gateway.logs.entries().filter((entry) => Number(entry.level) >= 40)).toEqual([])
  })
})

describeWithRedis('a command on its way when Redis is killed', () => {
  let redis: ChildProcess
  let emulator: RunningEmulator
  let gateway: TestGateway
  beforeAll(async () => {
    const port = await freePort()
    redis = await startOwnRedis(port)
    emulator = await startEmulator({ clock: new Date('2026-03-02T12:00:00Z') })
    gateway = await startGatewayOn(emulator, {
      REDIS_URL: `redis://127.0.0.1:${port}`,
      REDIS_KEY_PREFIX: `test:${randomUUID()}:`,
      REDIS_COMMAND_TIMEOUT_MS: '5000',
      REDIS_HEARTBEAT_MS: '60000'
    })
  })
  afterAll(async () => {
    await gateway.close()
    await emulator.close()
    await stopOwnRedis(redis)
  })

  it('fails when the connection drops, before any reconnect attempt (nothing waits for one)', async () => {
    const link = gateway.app.redis!
    await stallOwnRedis(redis)
    // Sent into the stall, so that it is surely on its way (unanswered) when Redis dies.
    let reconnects = 0
    link.commands.on('reconnecting', () => { reconnects++ })
    const pending = link.run(async (r) => await r.ping())
    const failed = pending.then(() => 'answered', () => ({ reconnectsScheduled: reconnects, status: link.commands.status }))
    await stopOwnRedis(redis)
    // The drop scheduled the first reconnect; the command failed then, not after that attempt failed too.
    expect(await answered('a command when Redis is killed', failed)).toEqual({ reconnectsScheduled: 1, status: 'reconnecting' })
  })
})
