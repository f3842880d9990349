import { afterAll, beforeAll, beforeEach, expect, it, vi, type MockInstance } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import type { OperationPipeline } from '../../src/graphql/pipeline/pipeline.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { readUntil } from '../helpers/sse.js'
import { connectionEnd } from '../helpers/wait.js'

/*
 * The REST event stream is an operation of the pipeline with no document (app.pipeline.admit): the
 * door names it (its OpenAPI operationId) and gets from the pipeline its log line and its count in
 * vlgw_operations_total under transport `rest`, finished when the stream ends, and the refusal of a
 * caller over REST_MAX_STREAMS_PER_CALLER, logged and counted as any refused operation. Its reads are
 * the shared poller's, under the poller's budget (as a subscription's are): the line counts none.
 */

const CAP = 'Too many event streams: at most 1 per caller at once (REST_MAX_STREAMS_PER_CALLER). Close one before opening another.'

let gw: TestGateway
let admit: MockInstance<OperationPipeline['admit']>
beforeAll(async () => { gw = await startTestGateway({ REST_MAX_STREAMS_PER_CALLER: '1', POLL_INTERVAL_MS: '3600000' }) })
afterAll(async () => { await gw.close() })
beforeEach(() => {
  gw.emulator.clearCalls()
  // Each test's own (mocks are restored before every test): the door calls the pipeline it was given, this one.
  admit = vi.spyOn(gw.app.pipeline, 'admit')
})

const lineOf = (requestId: string): Record<string, unknown> | undefined =>
  gw.logs.entries().find((entry) => entry.requestId === requestId && typeof entry.operation === 'object')
const samples = async (name: string): Promise<Array<{ labels: Record<string, unknown>, value: number }>> =>
  ((await gw.app.metrics.registry.getSingleMetric(name)?.get())?.values ?? []).map(({ labels, value }) => ({ labels, value }))
const restOperations = async (): Promise<Array<{ labels: Record<string, unknown>, value: number }>> =>
  (await samples('vlgw_operations_total')).filter(({ labels }) => labels.transport === 'rest')

it('records a stream that ends: one line and one count under transport rest, named by its operationId, once it has ended', async () => {
  const res = await fetch(`${gw.url}/v1/datasets/${SEED.datasets.ready}/events`, { headers: { 'x-request-id': 'events-1' } })
  expect(res.status).toBe(200)
  const text = await res.text()
  expect(text).toMatch(/^id: [^\n]+\nevent: status\ndata: [^\n]+\n\nevent: complete\ndata: \{\}\n\n$/)
  expect(admit).toHaveBeenCalledTimes(1)
  expect(admit.mock.calls[0]?.[0]).toMatchObject({ transport: 'rest', requestId: 'events-1', logNamesRequest: true })
  expect(admit.mock.calls[0]?.[1]).toMatchObject({ type: 'query', name: 'streamDatasetEvents' })
  expect(lineOf('events-1')).toMatchObject({
    level: 30,
    msg: 'rest operation',
    operation: { name: 'streamDatasetEvents', type: 'query', transport: 'rest', ms: expect.any(Number), upstreamCalls: 0, outcome: 'ok' }
  })
  expect(gw.emulator.calls().map((call) => call.path)).toEqual([`/api/v1/dataset/${SEED.datasets.ready}`])
  expect(await restOperations()).toEqual([
    { labels: { transport: 'rest', operation_type: 'query', operation_name: 'streamDatasetEvents', outcome: 'ok' }, value: 1 }
  ])
})

it('refuses a stream over the caller\'s ceiling from the pipeline: a 429 problem, a refused line, a RATE_LIMITED count; the held one is recorded when its client leaves', async () => {
  const leaving = new AbortController()
  const held = await fetch(`${gw.url}/v1/datasets/${SEED.datasets.indexing}/events?follow=true`, { headers: { 'x-request-id': 'held-1' }, signal: leaving.signal })
  expect(held.status).toBe(200)
  await readUntil(held, 'event: status')
  expect(lineOf('held-1')).toBeUndefined()

  const refused = await fetch(`${gw.url}/v1/datasets/${SEED.datasets.ready}/events`, { headers: { 'x-request-id': 'over-1' } })
  expect([refused.status, refused.headers.get('content-type'), await refused.json()]).toEqual([429, 'application/problem+json; charset=utf-8', {
    type: 'urn:vl-gateway:problem:rate-limited',
    title: 'Too many requests',
    status: 429,
    detail: CAP,
    code: 'RATE_LIMITED',
    requestId: 'over-1'
  }])
  expect(gw.emulator.calls().map((call) => call.path)).toEqual([`/api/v1/dataset/${SEED.datasets.indexing}`])
  expect(await admit.mock.results[1]?.value).toMatchObject({ refusal: { code: 'RATE_LIMITED', message: CAP } })
  expect(lineOf('over-1')).toMatchObject({
    level: 30,
    msg: 'rest operation refused or partial',
    operation: { name: 'streamDatasetEvents', type: 'query', transport: 'rest', upstreamCalls: 0, outcome: 'RATE_LIMITED' },
    reason: CAP
  })
  expect(await samples('vlgw_rate_limited_total')).toEqual([{ labels: {}, value: 1 }])

  const ended = connectionEnd(gw.app.server, 'rest-events')
  leaving.abort()
  await ended
  expect(lineOf('held-1')).toMatchObject({
    msg: 'rest operation',
    operation: { name: 'streamDatasetEvents', type: 'query', transport: 'rest', upstreamCalls: 0, outcome: 'ok' }
  })
  expect(await restOperations()).toEqual([
    { labels: { transport: 'rest', operation_type: 'query', operation_name: 'streamDatasetEvents', outcome: 'ok' }, value: 2 },
    { labels: { transport: 'rest', operation_type: 'query', operation_name: 'streamDatasetEvents', outcome: 'RATE_LIMITED' }, value: 1 }
  ])
})

it('records the live resource (?live=1) under its own operationId, getDataset', async () => {
  const leaving = new AbortController()
  const live = await fetch(`${gw.url}/v1/datasets/${SEED.datasets.ready}?live=1`, { headers: { 'x-request-id': 'live-1' }, signal: leaving.signal })
  expect(live.status).toBe(200)
  await readUntil(live, 'event: dataset')
  const ended = connectionEnd(gw.app.server, 'rest-events')
  leaving.abort()
  await ended
  expect(admit.mock.calls.map(([, operation]) => operation.name)).toEqual(['getDataset'])
  expect(lineOf('live-1')).toMatchObject({ msg: 'rest operation', operation: { name: 'getDataset', type: 'query', transport: 'rest', outcome: 'ok' } })
  expect(await restOperations()).toContainEqual(
    { labels: { transport: 'rest', operation_type: 'query', operation_name: 'getDataset', outcome: 'ok' }, value: 1 }
  )
})
