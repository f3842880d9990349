import type { AddressInfo } from 'node:net'
import type { Client } from 'graphql-ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { hasRemoteUpstream, loadConfig } from '../../src/config.js'
import { SEED } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { pollerStopped } from '../helpers/polls.js'
import { connectionEnd, nextCall, nextEvent, onChannel } from '../helpers/wait.js'
import { record, wsClient } from '../helpers/ws.js'

/**
 * GET /metrics on METRICS_PORT after a scripted mix of traffic: successes, a read shared with one in
 * flight, an upstream 503 retried, refused documents, a subscription over WebSocket, and Visual Layer
 * failing until the breaker opens. Each count is exact; the emulator's call log agrees with it.
 */

type Samples = Map<string, number>

/** The samples of a Prometheus text exposition, keyed `name{label="value",...}` with labels sorted. */
function parse (text: string): Samples {
  const samples: Samples = new Map()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match === null) throw new Error(`not a sample: ${line}`)
    const labels = [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, name, value]) => `${name}="${value}"`).sort()
    samples.set(`${match[1]}{${labels.join(',')}}`, Number(match[3]))
  }
  return samples
}

/** A sample's key, labels sorted as parse sorts them. */
function key (name: string, labels: Record<string, string> = {}): string {
  return `${name}{${Object.entries(labels).map(([label, value]) => `${label}="${value}"`).sort().join(',')}}`
}

/** Every sample of the metrics named, for exact comparison. */
function only (samples: Samples, ...names: string[]): Record<string, number> {
  return Object.fromEntries([...samples].filter(([name]) => names.includes(name.slice(0, name.indexOf('{')))).sort(([a], [b]) => a.localeCompare(b)))
}

const READY = SEED.datasets.ready
const INDEXING = SEED.datasets.indexing
const DATASET = '/api/v1/dataset/{dataset_id}'

describe('Prometheus metrics on METRICS_PORT', () => {
  let gw: TestGateway
  let scrape: () => Promise<{ status: number, type: string | null, samples: Samples }>
  let client: Client

  beforeAll(async () => {
    gw = await startTestGateway({
      METRICS_PORT: '0',
      UPSTREAM_RETRIES: '2',
      BREAKER_THRESHOLD: '2',
      BREAKER_COOLDOWN_MS: '600000',
      // One poll per subscription in this test: the counts do not depend on time.
      POLL_INTERVAL_MS: '3600000'
    })
    const { port } = gw.app.metricsServer?.address() as AddressInfo
    scrape = async () => {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`)
      return { status: res.status, type: res.headers.get('content-type'), samples: parse(await res.text()) }
    }
  })
  afterAll(async () => {
    await client?.dispose()
    await gw.close()
  })

  it('serves nothing but /metrics, and not on the API port', async () => {
    const { port } = gw.app.metricsServer?.address() as AddressInfo
    expect((await fetch(`http://127.0.0.1:${port}/graphql`)).status).toBe(404)
    expect((await fetch(`${gw.url}/metrics`)).status).toBe(404)
  })

  it('counts a scripted mix of traffic exactly', async () => {
    const one = 'query One($id: ID!) { dataset(id: $id) { id status } }'
    expect((await gw.gql(one, { id: READY })).status).toBe(200)

    // Two reads of one dataset at once (in other words, so that they are two executions): the second
    // is answered by the first one's call.
    // Visual Layer holds the first one's call until the second has joined it.
    gw.emulator.injectFault({ path: `/api/v1/dataset/${READY}`, hold: 'pair' })
    const arrived = nextCall(gw.emulator, { path: `/api/v1/dataset/${READY}`, phase: 'arrived' })
    const firstOfPair = gw.gql(one, { id: READY })
    await arrived
    const joined = nextEvent<{ path: string }>('the second read to join the first', onChannel('visual-layer:upstream:shared-read'), (m) => m.path === `/api/v1/dataset/${READY}`)
    const secondOfPair = gw.gql('query One($id: ID!) { dataset(id: $id) { status id } }', { id: READY })
    await joined
    expect(gw.emulator.release('pair')).toBe(1)
    const pair = await Promise.all([firstOfPair, secondOfPair])
    expect(pair.map((res) => res.status)).toEqual([200, 200])

    // A 503, retried once.
    gw.emulator.injectFault({ path: '/api/v1/datasets', status: 503 })
    expect((await gw.gql('query List { datasets { id } }')).body.errors).toBeUndefined()

    // Refused documents: a field the schema lacks, and a syntax error.
    expect((await gw.gql('query Bad { dataset(id: "x") { nope } }')).status).toBe(400)
    expect((await gw.gql('{ dataset(')).status).toBe(400)

    // A subscription over WebSocket, on a dataset still indexing: it stays open.
    client = wsClient(gw.url)
    const watch = record(client, `subscription Watch { datasetStatusChanged(datasetId: "${INDEXING}") { id status } }`)
    await watch.received(1)
    const live = await scrape()
    expect(only(live.samples, 'vlgw_subscriptions', 'vlgw_live_pollers', 'vlgw_websocket_connections', 'vlgw_live_polls_total')).toEqual({
      [key('vlgw_live_pollers')]: 1,
      [key('vlgw_live_polls_total', { resource: 'dataset', outcome: 'changed' })]: 1,
      [key('vlgw_subscriptions', { operation: 'datasetStatusChanged' })]: 1,
      [key('vlgw_websocket_connections')]: 1
    })
    const stopped = pollerStopped(gw, INDEXING)
    watch.stop()
    await stopped
    expect((await scrape()).samples.get(key('vlgw_live_pollers'))).toBe(0)
    const closed = connectionEnd(gw.app.server, 'websocket')
    await client.dispose()
    expect((await closed).open).toBe(0)
    expect((await scrape()).samples.get(key('vlgw_websocket_connections'))).toBe(0)

    // Visual Layer failing: two 503s in a row open the breaker (BREAKER_THRESHOLD=2), the third try is refused.
    gw.emulator.injectFault({ path: '/api/v1/tasks/filters', status: 503, times: 2 })
    const filters = await gw.gql('query Filters { taskFilterOptions { taskTypes } }')
    expect(filters.body.errors?.map((error) => error.extensions?.code)).toEqual(['UPSTREAM_UNAVAILABLE'])

    const { status, type, samples } = await scrape()
    expect(status).toBe(200)
    expect(type).toBe('text/plain; version=0.0.4; charset=utf-8')
    const http = { transport: 'http', operation_type: 'query' }
    expect(only(samples, 'vlgw_operations_total')).toEqual({
      [key('vlgw_operations_total', { ...http, operation_name: 'One', outcome: 'ok' })]: 3,
      [key('vlgw_operations_total', { ...http, operation_name: 'List', outcome: 'ok' })]: 1,
      [key('vlgw_operations_total', { ...http, operation_name: 'Filters', outcome: 'UPSTREAM_UNAVAILABLE' })]: 1,
      [key('vlgw_operations_total', { transport: 'http', operation_type: 'unknown', operation_name: '(other)', outcome: 'QUERY_REJECTED' })]: 2,
      [key('vlgw_operations_total', { transport: 'websocket', operation_type: 'subscription', operation_name: 'Watch', outcome: 'ok' })]: 1
    })
    expect(samples.get(key('vlgw_operation_duration_seconds_count', { ...http, operation_name: 'One' }))).toBe(3)
    expect(samples.has(key('vlgw_operation_duration_seconds_count', { transport: 'websocket', operation_type: 'subscription', operation_name: 'Watch' }))).toBe(false)
    expect(only(samples, 'vlgw_queries_rejected_total', 'vlgw_rate_limited_total')).toEqual({
      [key('vlgw_queries_rejected_total', { reason: 'syntax' })]: 1,
      [key('vlgw_queries_rejected_total', { reason: 'validation' })]: 1,
      [key('vlgw_rate_limited_total')]: 0
    })
    // Every request to the API port, by route template and status: the seven POSTs to /graphql, and the 404 of /metrics (no route)
    // in the test above. The WebSocket's upgrade never reaches Fastify's router: vlgw_websocket_connections counts its sockets.
    expect(only(samples, 'http_server_request_duration_seconds_count')).toEqual({
      [key('http_server_request_duration_seconds_count', { http_request_method: 'POST', http_route: '/graphql', http_response_status_code: '200' })]: 5,
      [key('http_server_request_duration_seconds_count', { http_request_method: 'POST', http_route: '/graphql', http_response_status_code: '400' })]: 2,
      [key('http_server_request_duration_seconds_count', { http_request_method: 'GET', http_route: '', http_response_status_code: '404' })]: 1
    })
    // Visual Layer's requests by path template and status code; a failed one says why (here its status code).
    const upstream = (template: string, status: number): string => key('http_client_request_duration_seconds_count', {
      http_request_method: 'GET', url_template: template, server_address: '127.0.0.1', http_response_status_code: String(status), error_type: status >= 400 ? String(status) : ''
    })
    expect(only(samples, 'http_client_request_duration_seconds_count', 'vlgw_upstream_retries_total', 'vlgw_upstream_shared_reads_total')).toEqual({
      [upstream(DATASET, 200)]: 3,
      [upstream('/api/v1/datasets', 503)]: 1,
      [upstream('/api/v1/datasets', 200)]: 1,
      [upstream('/api/v1/tasks/filters', 503)]: 2,
      [key('vlgw_upstream_retries_total', { url_template: '/api/v1/datasets', http_request_method: 'GET' })]: 1,
      [key('vlgw_upstream_retries_total', { url_template: '/api/v1/tasks/filters', http_request_method: 'GET' })]: 2,
      [key('vlgw_upstream_shared_reads_total', { url_template: DATASET })]: 1
    })
    expect(only(samples, 'vlgw_upstream_breaker_state', 'vlgw_upstream_breaker_transitions_total')).toEqual({
      [key('vlgw_upstream_breaker_state')]: 2,
      [key('vlgw_upstream_breaker_transitions_total', { to: 'open' })]: 1
    })
    expect(only(samples, 'vlgw_subscriptions', 'vlgw_live_pollers', 'vlgw_websocket_connections', 'vlgw_sse_streams', 'vlgw_load_shedding', 'vlgw_redis_up')).toEqual({
      [key('vlgw_live_pollers')]: 0,
      [key('vlgw_subscriptions', { operation: 'datasetStatusChanged' })]: 0,
      [key('vlgw_websocket_connections')]: 0,
      [key('vlgw_sse_streams', { api: 'graphql' })]: 0,
      [key('vlgw_sse_streams', { api: 'rest' })]: 0,
      // Without REDIS_URL there is no Redis to reach: no vlgw_redis_up.
      [key('vlgw_load_shedding')]: 0
    })
    // The process' default metrics come along.
    expect(samples.has(key('process_cpu_user_seconds_total'))).toBe(true)
    expect(samples.has(key('nodejs_eventloop_lag_p99_seconds'))).toBe(true)

    // The emulator saw what the metrics say was sent.
    const sent = gw.emulator.calls().map((call) => `${call.method} ${call.path} ${call.status}`)
    expect(sent.filter((line) => line.startsWith('GET /api/v1/dataset/'))).toHaveLength(3)
    expect(sent.filter((line) => line.startsWith('GET /api/v1/datasets '))).toEqual(['GET /api/v1/datasets 503', 'GET /api/v1/datasets 200'])
    expect(sent.filter((line) => line.startsWith('GET /api/v1/tasks/filters'))).toEqual(['GET /api/v1/tasks/filters 503', 'GET /api/v1/tasks/filters 503'])

    // One log line per operation, with its name, type, duration, upstream calls and outcome.
    const lines = gw.logs.entries().filter((entry) => typeof entry.operation === 'object')
    const summary = lines.map((entry) => {
      const { ms, ...rest } = entry.operation as Record<string, unknown>
      expect(typeof ms).toBe('number')
      return { level: entry.level, ...rest } as Record<string, unknown>
    })
    expect(summary).toEqual([
      { level: 30, name: 'One', type: 'query', transport: 'http', upstreamCalls: 1, outcome: 'ok' },
      // The pair: one sent the call, the other shared it.
      ...[1, 0].map(() => ({ level: 30, name: 'One', type: 'query', transport: 'http', upstreamCalls: expect.any(Number), outcome: 'ok' })),
      { level: 30, name: 'List', type: 'query', transport: 'http', upstreamCalls: 2, outcome: 'ok' },
      { level: 30, name: null, type: 'unknown', transport: 'http', upstreamCalls: 0, outcome: 'QUERY_REJECTED' },
      { level: 30, name: null, type: 'unknown', transport: 'http', upstreamCalls: 0, outcome: 'QUERY_REJECTED' },
      { level: 30, name: 'Watch', type: 'subscription', transport: 'websocket', upstreamCalls: 0, outcome: 'ok' },
      { level: 40, name: 'Filters', type: 'query', transport: 'http', upstreamCalls: 2, outcome: 'UPSTREAM_UNAVAILABLE' }
    ])
    expect(summary.slice(1, 3).map((line) => line.upstreamCalls as number).sort()).toEqual([0, 1])
    expect(lines[4]?.reason).toBe('Cannot query field "nope" on type "Dataset".')
    // Each line names its request once: a request's logger names it already, a socket's does not.
    const raw = gw.logs.text().split('\n').filter((line) => line.includes('"operation":{'))
    expect(raw.map((line) => line.split('"requestId":').length - 1)).toEqual([1, 1, 1, 1, 1, 1, 1, 1])
    // Client mistakes and Visual Layer outages are not errors of the gateway.
    expect(gw.logs.entries().filter((entry) => (entry.level as number) >= 50)).toEqual([])
  })
})

describe('without METRICS_PORT', () => {
  it('opens no listener', async () => {
    const config = loadConfig({ VL_BASE_URL: 'http://127.0.0.1:9', VL_API_KEY: 'k', VL_API_SECRET: 's', AUTH_MODE: 'none', LOG_LEVEL: 'silent', LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0' })
    if (!hasRemoteUpstream(config)) throw new Error('unreachable')
    const app = await buildApp(config)
    await app.ready()
    expect(app.metricsServer).toBeUndefined()
    expect(typeof app.metrics.registry.metrics).toBe('function')
    await app.close()
  })
})
