import { afterAll, beforeAll, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import { describeWithRedis, startCluster, type TestCluster } from '../helpers/cluster.js'
import type { TestGateway } from '../helpers/gateway.js'
import { record, wsClient } from '../helpers/ws.js'

/**
 * A caller's allowances are the cluster's, not each replica's: with 6 requests a minute, six spread
 * over three replicas pass and the seventh is refused on any of them, with the usual 429; the same for
 * the REST door's own counters and for mutations sent over WebSocket. Callers are told apart by their
 * address behind the trusted loopback proxy.
 */

const query = '{ __typename }'

/**
 * The wait as a refusal says it over HTTP, from its Retry-After: "1 minute" when the window is whole, "59
 * seconds" when a busy machine took a second over the requests before it.
 */
const inWords = (retryAfter: number): string => retryAfter >= 60 ? '1 minute' : `${retryAfter} second${retryAfter === 1 ? '' : 's'}`
const mutation = 'mutation { abortTask(taskId: "not-an-id") { id } }'

describeWithRedis('rate limits across three replicas', () => {
  let cluster: TestCluster
  let replicas: TestGateway[]
  beforeAll(async () => {
    // Counted on Redis however long its answer takes on a busy machine (startCluster's REDIS_REQUEST_TIMEOUT_MS).
    cluster = await startCluster({ replicas: 3, env: { TRUST_PROXY: '127.0.0.1', RATE_LIMIT_PER_MINUTE: '6', RATE_LIMIT_MUTATIONS_PER_MINUTE: '2' } })
    replicas = cluster.replicas
  })
  afterAll(async () => { await cluster.close() })

  const replica = (i: number): TestGateway => replicas[i % replicas.length] as TestGateway
  const post = async (gw: TestGateway, address: string, body: string, requestId = 'req'): Promise<{ status: number, retryAfter: string | null, body: unknown }> => {
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': address, 'x-request-id': requestId },
      body: JSON.stringify({ query: body })
    })
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() }
  }

  it('GraphQL over HTTP: six requests over three replicas pass, the seventh is 429 on any replica; another caller has its own', async () => {
    for (let i = 0; i < 6; i++) expect(await post(replica(i), '10.0.0.1', query)).toEqual({ status: 200, retryAfter: null, body: { data: { __typename: 'Query' } } })
    for (const [i, gw] of replicas.entries()) {
      const refused = await post(gw, '10.0.0.1', query, `req-7-${i}`)
      expect(refused.status).toBe(429)
      expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(55)
      expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60)
      expect(refused.body).toEqual({
        data: null,
        errors: [{ message: `Too many requests: at most 6 a minute for each caller. Try again in ${inWords(Number(refused.retryAfter))}.`, extensions: { code: 'RATE_LIMITED', requestId: `req-7-${i}` } }]
      })
    }
    expect((await post(replica(2), '10.0.0.2', query)).status).toBe(200)
    // Counted in Redis under the cluster's prefix, never in a replica alone.
    expect(await cluster.redis.get(`${cluster.prefix}rate:requests:address:10.0.0.1`)).toBe('9')
  })

  it('REST: its own shared counters, the seventh GET refused on another replica with the usual problem', async () => {
    const get = async (gw: TestGateway, requestId = 'req'): Promise<{ status: number, body: unknown, retryAfter: number }> => {
      const res = await fetch(`${gw.url}/v1/datasets/${SEED.datasets.ready}`, { headers: { 'x-forwarded-for': '10.0.0.3', 'x-request-id': requestId } })
      return { status: res.status, body: await res.json(), retryAfter: Number(res.headers.get('retry-after')) }
    }
    for (let i = 0; i < 6; i++) expect((await get(replica(i))).status).toBe(200)
    cluster.emulator.clearCalls()
    const limited = await get(replica(1), 'limited')
    expect(limited.retryAfter).toBeGreaterThanOrEqual(55)
    expect(limited).toEqual({
      status: 429,
      retryAfter: limited.retryAfter,
      body: {
        type: 'urn:vl-gateway:problem:rate-limited',
        title: 'Too many requests',
        status: 429,
        detail: `Too many requests: at most 6 a minute for each caller. Try again in ${inWords(limited.retryAfter)}.`,
        code: 'RATE_LIMITED',
        requestId: 'limited'
      }
    })
    expect(cluster.emulator.calls()).toEqual([])
  })

  it('WebSocket: mutations over sockets on two replicas use the allowance, the third on a third replica is RATE_LIMITED', async () => {
    const clients = replicas.map((gw) => wsClient(gw.url))
    try {
      const results: unknown[] = []
      for (const client of clients) {
        results.push(await record(client, mutation).done.then(() => 'ran', (errors: Array<{ message: string, extensions?: { code?: unknown } }>) => errors))
      }
      expect(results.slice(0, 2)).toEqual(['ran', 'ran'])
      expect(results[2]).toEqual([{
        message: expect.stringMatching(/^Too many mutations: at most 2 a minute for each caller\. Try again in (59|60) s\.$/) as unknown,
        extensions: { code: 'RATE_LIMITED', requestId: expect.any(String) as unknown }
      }])
    } finally {
      await Promise.all(clients.map(async (client) => { await client.dispose() }))
    }
  })
})
