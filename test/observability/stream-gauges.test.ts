import { afterAll, beforeAll, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { readUntil } from '../helpers/sse.js'
import { connectionEnd } from '../helpers/wait.js'

/*
 * vlgw_sse_streams counts the event streams open now, by API: a GraphQL subscription over SSE
 * (/graphql/stream) and a REST event stream (/v1/datasets/{id}/events) each count one while their
 * client reads them, and none once it has left. A subscription on SSE is an operation of transport
 * `sse`, a REST event stream one of transport `rest` (both counted when their client leaves), and
 * the stream's request is timed, as every other, when it ends.
 */

let gw: TestGateway
beforeAll(async () => { gw = await startTestGateway({ POLL_INTERVAL_MS: '3600000' }) })
afterAll(async () => { await gw.close() })

async function streams (): Promise<Record<string, number>> {
  const { values } = await gw.app.metrics.registry.getSingleMetric('vlgw_sse_streams')?.get() ?? { values: [] }
  return Object.fromEntries(values.map(({ labels, value }) => [String(labels.api), value]))
}

it('counts each open SSE stream by API, and none once its client has left', async () => {
  expect(await streams()).toEqual({ graphql: 0, rest: 0 })
  const leaving = new AbortController()
  const query = `subscription Watch { datasetStatusChanged(datasetId: "${SEED.datasets.indexing}") { status } }`
  const graphql = await fetch(`${gw.url}/graphql/stream`, {
    method: 'POST',
    headers: { accept: 'text/event-stream', 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
    signal: leaving.signal
  })
  const rest = await fetch(`${gw.url}/v1/datasets/${SEED.datasets.indexing}/events?follow=true`, { signal: leaving.signal })
  expect([graphql.status, rest.status]).toEqual([200, 200])
  // Each has its first event: both streams are open.
  await Promise.all([readUntil(graphql, 'event: next'), readUntil(rest, 'event: status')])
  expect(await streams()).toEqual({ graphql: 1, rest: 1 })

  const ended = Promise.all([connectionEnd(gw.app.server, 'sse'), connectionEnd(gw.app.server, 'rest-events')])
  leaving.abort()
  await ended
  expect(await streams()).toEqual({ graphql: 0, rest: 0 })
  const operations = (await gw.app.metrics.operations.get()).values.map(({ labels, value }) => ({ ...labels, value }))
    .sort((x, y) => String(x.transport).localeCompare(String(y.transport)))
  expect(operations).toEqual([
    { transport: 'rest', operation_type: 'query', operation_name: 'streamDatasetEvents', outcome: 'ok', value: 1 },
    { transport: 'sse', operation_type: 'subscription', operation_name: 'Watch', outcome: 'ok', value: 1 }
  ])
  // Each stream's request is timed once its socket has closed, which came before the stream's end.
  const requests = async (): Promise<Array<Record<string, string | number>>> => (await gw.app.metrics.httpServerDuration.get()).values
    .filter(({ metricName }) => metricName === 'http_server_request_duration_seconds_count')
    .map(({ labels, value }) => ({ ...labels, value }))
    .sort((x, y) => String(x.http_route).localeCompare(String(y.http_route)))
  expect(await requests()).toEqual([
    { http_request_method: 'POST', http_route: '/graphql/stream', http_response_status_code: '200', value: 1 },
    { http_request_method: 'GET', http_route: '/v1/datasets/:id/events', http_response_status_code: '200', value: 1 }
  ])
})
