import { afterAll, beforeAll, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { SEED } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { nextCall, nextEvent, when } from '../helpers/wait.js'

/*
 * Load shedding: while the gateway is under pressure, new requests get 503 with Retry-After and one
 * RATE_LIMITED error, readiness says so, liveness still answers, and requests admitted before finish.
 * The pressure is set by the test (BuildOptions.pressure, under-pressure's health check) instead of
 * measured, so nothing here depends on the machine's speed; the measured limits are under-pressure's own.
 */

let gw: TestGateway
let underPressure = false
/** Told each time under-pressure has asked whether the gateway is under pressure (its health check, every 10 ms). */
const asked = new Set<(answer: boolean) => void>()
const pressure = (): boolean => {
  for (const listener of [...asked]) listener(underPressure)
  return underPressure
}
/**
 * Resolves once the gateway has taken `answer` in: the second health check that gives it has begun,
 * so the first one's answer is stored (under-pressure asks again only after storing the last).
 */
async function heeded (answer: boolean): Promise<void> {
  let times = 0
  await nextEvent<boolean>(`two health checks answering ${String(answer)}`, (listener) => {
    asked.add(listener)
    return () => { asked.delete(listener) }
  }, (given) => given === answer && ++times === 2)
}
beforeAll(async () => { gw = await startTestGateway({ LOAD_SHED_RETRY_AFTER_SEC: '7' }, { pressure }) })
afterAll(async () => { await gw.close() })

const query = `{ dataset(id: "${SEED.datasets.ready}") { displayName } }`
const ready = async (): Promise<{ status: number, retryAfter: string | null, body: unknown }> => {
  const res = await fetch(`${gw.url}/health/ready`)
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() }
}
/** The vlgw_load_shedding gauge, and the count of POST /graphql answered 503, as a scrape reads them. */
const metrics = async (): Promise<[number | undefined, number | undefined]> => {
  const shedding = (await gw.app.metrics.registry.getSingleMetric('vlgw_load_shedding')?.get())?.values[0]?.value
  const requests = (await gw.app.metrics.httpServerDuration.get()).values.find(({ metricName, labels }) =>
    metricName === 'http_server_request_duration_seconds_count' && labels.http_route === '/graphql' && labels.http_response_status_code === '503')
  return [shedding, requests?.value]
}

it('sheds new requests with 503, Retry-After and the gateway\'s error shape, lets admitted ones finish, and recovers', async () => {
  expect((await ready()).status).toBe(200)
  expect(await metrics()).toEqual([0, undefined])
  // One request admitted before the pressure, held upstream until after it began.
  gw.emulator.reset()
  gw.emulator.injectFault({ path: `/api/v1/dataset/${SEED.datasets.ready}`, hold: 'admitted' })
  const arrived = nextCall(gw.emulator, { path: `/api/v1/dataset/${SEED.datasets.ready}`, phase: 'arrived' })
  const admitted = gw.gql(query)
  await arrived

  underPressure = true
  await heeded(true)
  expect(await ready()).toEqual({
    status: 503,
    retryAfter: '7',
    body: { status: 'unavailable', reason: 'The gateway is overloaded and sheds new requests', code: 'RATE_LIMITED' }
  })
  const shed = await fetch(`${gw.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': 'req-shed' },
    body: JSON.stringify({ query })
  })
  expect([shed.status, shed.headers.get('retry-after'), shed.headers.get('content-type'), await shed.json()]).toEqual([503, '7', 'application/json; charset=utf-8', {
    data: null,
    errors: [{ message: 'The gateway is overloaded and refuses new requests for now; try again in 7 s.', extensions: { code: 'RATE_LIMITED', requestId: 'req-shed' } }]
  }])
  // A new WebSocket is refused at the upgrade, with the same answer.
  const upgrade = await new Promise<number>((resolve) => {
    const socket = new WebSocket(`${gw.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws')
    socket.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); socket.terminate() })
    socket.on('open', () => { resolve(101); socket.terminate() })
    socket.on('error', () => {})
  })
  expect(upgrade).toBe(503)
  // The gauge says the gateway sheds; the shed request is timed with its 503 (the upgrade never reaches Fastify's router).
  expect(await metrics()).toEqual([1, 1])
  const live = await fetch(`${gw.url}/health/live`)
  expect([live.status, await live.json()]).toEqual([200, { status: 'live' }])

  // The request admitted before finishes with its data; the shed ones cost Visual Layer nothing.
  expect(gw.emulator.release('admitted')).toBe(1)
  expect((await admitted).body).toEqual({ data: { dataset: { displayName: 'Product Images Q1' } } })
  expect(gw.emulator.calls().length).toBe(1)
  expect(gw.logs.entries().filter((entry) => (entry.level as number) >= 50)).toEqual([])

  underPressure = false
  await heeded(false)
  expect((await ready()).status).toBe(200)
  expect(await metrics()).toEqual([0, 1])
  expect((await gw.gql(query)).body).toEqual({ data: { dataset: { displayName: 'Product Images Q1' } } })
})

it('measures the heap against LOAD_SHED_MAX_HEAP_USED_BYTES: with a limit of 1 byte, the first sample sheds', async () => {
  // under-pressure samples the heap on a timer of its own (once a second): its reading of the heap is the event.
  const started: { gateway?: TestGateway } = {}
  const sampled = when('a sample of the heap over the limit', (listener) => {
    const original = process.memoryUsage.bind(process)
    const spy = vi.spyOn(process, 'memoryUsage').mockImplementation(Object.assign(() => {
      const usage = original()
      // Stored by under-pressure as this returns; the listener runs after.
      setImmediate(() => { listener(undefined) })
      return usage
    }, { rss: () => original.rss() }))
    return () => { spy.mockRestore() }
  }, () => started.gateway?.app.isUnderPressure() === true)
  const tiny = started.gateway = await startTestGateway({ LOAD_SHED_MAX_HEAP_USED_BYTES: '1' })
  try {
    await sampled
    expect((await fetch(`${tiny.url}/health/ready`)).status).toBe(503)
    const res = await tiny.gql(query)
    expect([res.status, res.body.errors?.[0]?.extensions?.code]).toEqual([503, 'RATE_LIMITED'])
    // Readiness asked Visual Layer's health check before the first sample; the shed query asked nothing.
    expect(tiny.emulator.calls().filter((call) => call.path !== '/api/v1/healthcheck')).toEqual([])
  } finally {
    await tiny.close()
  }
})
