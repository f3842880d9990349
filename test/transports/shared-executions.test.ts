import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { DEMO_ACCOUNTS, SEED } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { visualLayerToken } from '../helpers/tokens.js'

/**
 * Identical queries in flight share one execution (src/transports/graphql-http/shared-executions.ts):
 * the first (the leader) holds its upstream call under a delay fault while the others arrive; each
 * answer is the leader's body with the request's own id, and each request is its own operation line.
 */

const QUERY = 'query Dataset($id: ID!) { dataset(id: $id) { id displayName status } }'
const DELAY = { method: 'GET', path: '/api/v1/dataset/*', delayMs: 2_000 }

interface Answer { status: number, requestId: string | null, body: unknown }

async function post (gw: TestGateway, body: unknown, requestId: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${gw.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId, ...headers },
    body: JSON.stringify(body)
  })
  return { status: res.status, requestId: res.headers.get('x-request-id'), body: await res.json() }
}

/** Resolves once the emulator has received `count` calls: the leader is then in flight. */
async function upstreamCalls (gw: TestGateway, count: number): Promise<void> {
  while (gw.emulator.calls().length < count) await new Promise((resolve) => setImmediate(resolve))
}

function operationLines (gw: TestGateway): Array<{ requestId: string, operation: { upstreamCalls: number, outcome: string, sharedFrom?: string } }> {
  return gw.logs.entries().filter((line) => line.msg === 'graphql operation' || line.msg === 'graphql operation refused or partial') as never
}

describe('identical queries in flight', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway() })
  afterAll(async () => { await gw.close() })
  beforeEach(() => { gw.emulator.reset(); gw.logs.clear() })

  it('share one execution: one upstream call, the same body, each answer with its own request id', async () => {
    gw.emulator.injectFault(DELAY)
    const variables = { id: SEED.datasets.ready }
    const leader = post(gw, { query: QUERY, variables }, 'leader')
    await upstreamCalls(gw, 1)
    const followers = await Promise.all(Array.from({ length: 19 }, async (_, i) => await post(gw, { query: QUERY, variables }, `follower-${i}`)))
    const first = await leader
    expect(first.status).toBe(200)
    expect(first.body).toEqual({ data: { dataset: { id: SEED.datasets.ready, displayName: expect.any(String), status: 'READY' } } })
    for (const [i, answer] of followers.entries()) expect(answer).toEqual({ status: 200, requestId: `follower-${i}`, body: first.body })
    expect(gw.emulator.calls().length).toBe(1)

    const lines = operationLines(gw)
    expect(lines.length).toBe(20)
    expect(lines.filter((line) => line.operation.sharedFrom === 'leader').map((line) => line.requestId).sort())
      .toEqual(Array.from({ length: 19 }, (_, i) => `follower-${i}`).sort())
    expect(lines.find((line) => line.requestId === 'leader')?.operation).toMatchObject({ upstreamCalls: 1, outcome: 'ok' })
    expect(lines.find((line) => line.requestId === 'leader')?.operation.sharedFrom).toBeUndefined()
  })

  it('does not share between other variables, nor between mutations', async () => {
    gw.emulator.injectFault({ ...DELAY, times: 2 })
    const one = post(gw, { query: QUERY, variables: { id: SEED.datasets.ready } }, 'one')
    await upstreamCalls(gw, 1)
    const other = await post(gw, { query: QUERY, variables: { id: SEED.datasets.readySecond } }, 'other')
    expect((await one).status).toBe(200)
    expect(other.body).toEqual({ data: { dataset: { id: SEED.datasets.readySecond, displayName: expect.any(String), status: 'READY' } } })
    expect(gw.emulator.calls().length).toBe(2)
    expect(operationLines(gw).filter((line) => line.operation.sharedFrom !== undefined)).toEqual([])

    gw.logs.clear()
    const abort = `mutation { abortTask(taskId: "${SEED.tasks.indexingCreation}") { id } }`
    await Promise.all([post(gw, { query: abort }, 'abort-1'), post(gw, { query: abort }, 'abort-2')])
    const mutations = operationLines(gw).filter((line) => line.requestId.startsWith('abort-'))
    expect(mutations.map((line) => [line.requestId, line.operation.sharedFrom]).sort()).toEqual([['abort-1', undefined], ['abort-2', undefined]])
  })

  it('shares no answer that has errors: each waiting request then runs itself', async () => {
    gw.emulator.injectFault({ ...DELAY, status: 500, body: { detail: 'boom' } })
    const variables = { id: SEED.datasets.ready }
    const leader = post(gw, { query: QUERY, variables }, 'failing-leader')
    await upstreamCalls(gw, 1)
    const followers = await Promise.all(Array.from({ length: 3 }, async (_, i) => await post(gw, { query: QUERY, variables }, `runs-itself-${i}`)))
    const failed = await leader
    expect((failed.body as { errors: Array<{ extensions: { requestId: string } }> }).errors[0]?.extensions.requestId).toBe('failing-leader')
    for (const answer of followers) {
      expect(answer.body).toEqual({ data: { dataset: { id: SEED.datasets.ready, displayName: expect.any(String), status: 'READY' } } })
    }
    // The leader's failed call, then the waiting requests' own (shared between them as reads in flight are).
    expect(gw.emulator.calls().length).toBeGreaterThanOrEqual(2)
    expect(operationLines(gw).filter((line) => line.operation.sharedFrom !== undefined)).toEqual([])
  })
})

describe('a leader whose client leaves', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway() })
  afterAll(async () => { await gw.close() })

  it('does not leave the others waiting: each then runs itself and is answered', async () => {
    gw.emulator.injectFault(DELAY)
    const variables = { id: SEED.datasets.ready }
    const leaving = new AbortController()
    const gone = fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'leaving' },
      body: JSON.stringify({ query: QUERY, variables }),
      signal: leaving.signal
    })
    await upstreamCalls(gw, 1)
    const staying = Promise.all([post(gw, { query: QUERY, variables }, 'staying-1'), post(gw, { query: QUERY, variables }, 'staying-2')])
    // Both requests have arrived (joined the leader, or about to run on their own: either way they must be answered).
    while (gw.logs.entries().filter((line) => String(line.requestId).startsWith('staying-') && line.msg === 'incoming request').length < 2) {
      await new Promise((resolve) => setImmediate(resolve))
    }
    leaving.abort()
    await expect(gone).rejects.toThrow()
    for (const [i, answer] of (await staying).entries()) {
      expect(answer).toEqual({ status: 200, requestId: `staying-${i + 1}`, body: { data: { dataset: { id: SEED.datasets.ready, displayName: expect.any(String), status: 'READY' } } } })
    }
    expect(operationLines(gw).filter((line) => line.operation.sharedFrom !== undefined)).toEqual([])
  })
})

describe('identical queries from other credential scopes', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway({ AUTH_MODE: 'passthrough' }) })
  afterAll(async () => { await gw.close() })

  it('are not shared: each scope runs its own', async () => {
    const exp = Math.floor(Date.now() / 1000) + 600
    const primary = `Bearer ${visualLayerToken(DEMO_ACCOUNTS.primary, { exp })}`
    const secondary = `Bearer ${visualLayerToken(DEMO_ACCOUNTS.secondary, { exp })}`
    gw.emulator.injectFault({ ...DELAY, times: 2 })
    const variables = { id: SEED.datasets.ready }
    const one = post(gw, { query: QUERY, variables }, 'primary', { authorization: primary })
    await upstreamCalls(gw, 1)
    const other = await post(gw, { query: QUERY, variables }, 'secondary', { authorization: secondary })
    expect((await one).status).toBe(200)
    expect(other.status).toBe(200)
    expect(gw.emulator.calls().length).toBe(2)
    expect(operationLines(gw).filter((line) => line.operation.sharedFrom !== undefined)).toEqual([])
  })
})
