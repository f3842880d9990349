import { afterAll, beforeAll, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import { describeWithRedis, startCluster, type TestCluster } from '../helpers/cluster.js'

/**
 * REST event streams per caller counted across the replicas (issue 22, item 10), as SSE streams are:
 * with REST_MAX_STREAMS_PER_CALLER=1, a caller holding a stream on one replica is refused on the
 * other, in a pool of its own (its SSE streams do not count against it).
 */

describeWithRedis('REST event streams per caller across two replicas (REST_MAX_STREAMS_PER_CALLER=1)', () => {
  let cluster: TestCluster
  beforeAll(async () => {
    cluster = await startCluster({ replicas: 2, env: { TRUST_PROXY: 'loopback', REST_MAX_STREAMS_PER_CALLER: '1', SSE_MAX_STREAMS_PER_CALLER: '1', POLL_INTERVAL_MS: '60000' } })
  })
  afterAll(async () => { await cluster.close() })

  const stream = async (replica: number, address: string, signal: AbortSignal): Promise<Response> =>
    await fetch(`${cluster.replicas[replica]?.url ?? ''}/v1/datasets/${SEED.datasets.draft}/events?follow=true`, {
      headers: { 'x-forwarded-for': address, 'x-request-id': `rest-${replica}` },
      signal
    })

  it('refuses a caller\'s stream on replica 1 while it holds one on replica 0; its SSE stream is counted apart', async () => {
    const held = new AbortController()
    const first = await stream(0, '10.2.0.1', held.signal)
    expect(first.status).toBe(200)
    const refused = await stream(1, '10.2.0.1', new AbortController().signal)
    expect([refused.status, await refused.json()]).toEqual([429, {
      type: 'urn:vl-gateway:problem:rate-limited',
      title: 'Too many requests',
      status: 429,
      detail: 'Too many event streams: at most 1 per caller at once (REST_MAX_STREAMS_PER_CALLER). Close one before opening another.',
      code: 'RATE_LIMITED',
      requestId: 'rest-1'
    }])
    const sse = await fetch(`${cluster.replicas[1]?.url ?? ''}/graphql/stream`, {
      method: 'POST',
      headers: { 'x-forwarded-for': '10.2.0.1', 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: `subscription { datasetStatusChanged(datasetId: "${SEED.datasets.draft}") { status } }` }),
      signal: held.signal
    })
    expect(sse.status).toBe(200)
    held.abort()
  })
})
