import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasRemoteUpstream, loadConfig } from '../../src/config.js'
import { DEMO_ACCOUNTS, SEED, startEmulator, type RunningEmulator } from '../../src/emulator/index.js'
import authPlugin from '../../src/plugins/auth.js'
import domainPlugin from '../../src/plugins/domain.js'
import graphPlugin from '../../src/plugins/graph.js'
import livePlugin from '../../src/plugins/live.js'
import metricsPlugin from '../../src/plugins/metrics.js'
import operationsPlugin from '../../src/plugins/operations.js'
import pipelinePlugin from '../../src/plugins/pipeline.js'
import redisPlugin from '../../src/plugins/redis.js'
import upstreamPlugin from '../../src/plugins/upstream.js'
import sse from '../../src/transports/sse/plugin.js'
import { TEST_START } from '../helpers/gateway.js'
import { ManualTime } from '../helpers/manual-time.js'
import { connectionEnd, when } from '../helpers/wait.js'

/**
 * The SSE door alone, with the shared services of buildApp and a reservation timeout on time the
 * test moves (ManualTime): a single-connection stream reserved (PUT) and never opened is dropped, freeing its
 * caller's place, and its token opens nothing; app.close() ends the streams that are open.
 */

async function startDoor (emulator: RunningEmulator, maxStreamsPerCaller: number, maxOperationsPerStream = 10, time?: ManualTime): Promise<{ app: FastifyInstance, url: string }> {
  const config = loadConfig({ VL_BASE_URL: emulator.url, VL_API_KEY: DEMO_ACCOUNTS.primary.apiKey, VL_API_SECRET: DEMO_ACCOUNTS.primary.apiSecret, AUTH_MODE: 'none', LOG_LEVEL: 'silent', POLL_INTERVAL_MS: '250' })
  if (!hasRemoteUpstream(config)) throw new Error('unreachable: VL_BASE_URL is set')
  const app = Fastify({ forceCloseConnections: 'idle' })
  await app.register(authPlugin, { config })
  await app.register(metricsPlugin, { port: null, host: config.host })
  await app.register(operationsPlugin, { tracing: false })
  await app.register(redisPlugin, { settings: config.redis })
  await app.register(upstreamPlugin, { settings: config.upstream })
  await app.register(livePlugin, { settings: config.live })
  await app.register(domainPlugin, { config })
  await app.register(graphPlugin, { config })
  await app.register(pipelinePlugin, { rateLimitPerMinute: 0, rateLimitMutationsPerMinute: 0, rateLimitUnprovenPerMinute: 0, liveQueries: config.liveQueries })
  await app.register(sse, { path: '/graphql/stream', maxStreamsPerCaller, maxOperationsPerStream, reservationTimeoutMs: 200, maxBufferedBytes: config.http.maxStreamBufferedBytes, ...(time === undefined ? {} : { time }) })
  return { app, url: `${await app.listen({ host: '127.0.0.1', port: 0 })}/graphql/stream` }
}

describe('an unopened single-connection stream', () => {
  let emulator: RunningEmulator
  let app: FastifyInstance
  let url: string
  const time = new ManualTime()
  beforeAll(async () => {
    emulator = await startEmulator({ clock: TEST_START })
    ;({ app, url } = await startDoor(emulator, 1, 10, time))
  })
  afterAll(async () => {
    await app.close()
    await emulator.close()
  })

  it('holds its caller\'s place until the reservation times out, then frees it and its token opens nothing', async () => {
    const first = await fetch(url, { method: 'PUT' })
    const token = await first.text()
    expect(first.status).toBe(201)
    expect((await fetch(url, { method: 'PUT' })).status).toBe(429)
    // 199 ms on: still held. 200 ms: dropped.
    time.advance(199)
    expect((await fetch(url, { method: 'PUT' })).status).toBe(429)
    const dropped = connectionEnd(app.server, 'sse', (m) => m.what === 'reservation')
    time.advance(1)
    await dropped
    expect((await fetch(url, { method: 'PUT' })).status).toBe(201)
    const open = await fetch(url, { headers: { accept: 'text/event-stream', 'x-graphql-event-stream-token': token } })
    expect([open.status, (await open.json() as { errors: Array<{ extensions: { code: string } }> }).errors[0]?.extensions.code]).toEqual([404, 'NOT_FOUND'])
  })
})

/** Reads a response's body as it arrives; `shows` resolves once the text so far contains `part`. */
function collect (response: globalThis.Response): { text: () => string, ended: Promise<void>, shows: (part: string) => Promise<void> } {
  let text = ''
  const decoder = new TextDecoder()
  const listeners = new Set<(chunk: undefined) => void>()
  const ended = (async () => {
    for await (const chunk of response.body ?? []) {
      text += decoder.decode(chunk as Uint8Array, { stream: true })
      for (const listener of [...listeners]) listener(undefined)
    }
  })()
  const shows = async (part: string): Promise<void> => {
    await when<undefined>(`${JSON.stringify(part)} on the stream`, (listener) => {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    }, () => text.includes(part))
  }
  return { text: () => text, ended, shows }
}

describe('shutdown', () => {
  it('app.close() ends the open streams of both modes, and their pollers', async () => {
    const emulator = await startEmulator({ clock: TEST_START })
    // The reservation's timeout on time nobody moves: on a busy machine 200 ms can pass between PUT and GET.
    const { app, url } = await startDoor(emulator, 10, 10, new ManualTime())
    const query = 'subscription { datasetStatusChanged(datasetId: "' + SEED.datasets.readOnly + '", follow: true) { status } }'
    const distinct = await fetch(url, { method: 'POST', headers: { accept: 'text/event-stream', 'content-type': 'application/json' }, body: JSON.stringify({ query }) })
    const token = await (await fetch(url, { method: 'PUT' })).text()
    const single = await fetch(url, { headers: { accept: 'text/event-stream', 'x-graphql-event-stream-token': token } })
    const added = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-graphql-event-stream-token': token }, body: JSON.stringify({ query, extensions: { operationId: '1' } }) })
    expect([distinct.status, single.status, added.status]).toEqual([200, 200, 202])
    const streams = [collect(distinct), collect(single)]
    // Both have their first event: each subscription runs.
    await Promise.all(streams.map(async (stream) => { await stream.shows('event: next') }))
    await app.close()
    await Promise.all(streams.map(async (stream) => { await stream.ended }))
    expect(streams.map((stream) => stream.text())).toEqual([
      ':\n\nevent: next\ndata: {"data":{"datasetStatusChanged":{"status":"READ_ONLY"}}}\n\nevent: complete\ndata:\n\n',
      ':\n\nevent: next\ndata: {"id":"1","payload":{"data":{"datasetStatusChanged":{"status":"READ_ONLY"}}}}\n\nevent: complete\ndata: {"id":"1"}\n\n'
    ])
    await emulator.close()
  })
})

describe('a single-connection stream', () => {
  it('runs at most WS_MAX_SUBSCRIPTIONS operations at once: one more gets RATE_LIMITED as its one result, and its place is free once one completes', async () => {
    const emulator = await startEmulator({ clock: TEST_START })
    const { app, url } = await startDoor(emulator, 10, 1, new ManualTime())
    try {
      // READ_ONLY never settles: followed or not, it runs until ended. ERROR has settled: it completes at once.
      const query = (follow: boolean): string => 'subscription { datasetStatusChanged(datasetId: "' + (follow ? SEED.datasets.readOnly : SEED.datasets.error) + '", follow: ' + String(follow) + ') { status } }'
      const token = await (await fetch(url, { method: 'PUT' })).text()
      const stream = collect(await fetch(url, { headers: { accept: 'text/event-stream', 'x-graphql-event-stream-token': token } }))
      const add = async (id: string, follow: boolean): Promise<number> => (await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-graphql-event-stream-token': token },
        body: JSON.stringify({ query: query(follow), extensions: { operationId: id } })
      })).status
      expect(await add('1', true)).toBe(202)
      await stream.shows('"id":"1"')
      expect(await add('2', true)).toBe(202)
      await stream.shows('"id":"2"}')
      const refused = /event: next\ndata: (\{"id":"2".*\})\n\n/.exec(stream.text())?.[1]
      expect(JSON.parse(refused ?? 'null')).toEqual({
        id: '2',
        payload: {
          data: null,
          errors: [{ message: 'Too many subscriptions on this event stream: at most 1. Complete one first, or open another stream.', extensions: { code: 'RATE_LIMITED', requestId: expect.any(String) } }]
        }
      })
      expect((await fetch(`${url}?operationId=1`, { method: 'DELETE', headers: { 'x-graphql-event-stream-token': token } })).status).toBe(200)
      await stream.shows('event: complete\ndata: {"id":"1"}')
      expect(await add('3', false)).toBe(202)
      await stream.shows('event: complete\ndata: {"id":"3"}')
      expect(stream.text()).toContain('event: next\ndata: {"id":"3","payload":{"data":{"datasetStatusChanged":{"status":"ERROR"}}}}')
    } finally {
      await app.close()
      await emulator.close()
    }
  })
})
