import { createSigner } from 'fast-jwt'
import { afterEach, describe, expect, it } from 'vitest'
import type { Client } from 'graphql-ws'
import { DEMO_ACCOUNTS, SEED } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { visualLayerToken } from '../helpers/tokens.js'
import { ManualTime } from '../helpers/manual-time.js'
import { asleep, nextTurn } from '../helpers/polls.js'
import { nextCall, nextEvent, onChannel } from '../helpers/wait.js'
import { record, wsClient } from '../helpers/ws.js'

/**
 * MAX_UPSTREAM_CALLS_PER_OPERATION: no operation sends Visual Layer more requests than its budget,
 * whatever its document. Issue 9, item 3: 240 aliased `tasks(page: N) { total }` with a valid token
 * made 2,401 upstream calls.
 */

const gateways: TestGateway[] = []
const clients: Client[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map(async (client) => { await client.dispose() }))
  await Promise.all(gateways.splice(0).map(async (gw) => { await gw.close() }))
})
async function gateway (env: Record<string, string> = {}, build: Parameters<typeof startTestGateway>[1] = {}): Promise<TestGateway> {
  const gw = await startTestGateway(env, build)
  gateways.push(gw)
  return gw
}

const budgetMessage = (max: number, what: string): string => `This operation reached the most calls to Visual Layer one operation may make (${max}, MAX_UPSTREAM_CALLS_PER_OPERATION); nothing was sent for ${what}. Ask for fewer items or aliases, or split the document into several requests.`
const ready = SEED.datasets.ready
const readOnly = SEED.datasets.readOnly

describe('the call budget of one operation', () => {
  const JWT_SECRET = 'an-hs256-secret-of-at-least-32-characters!'
  const modes: Array<[string, Record<string, string>, () => string]> = [
    ['passthrough', { AUTH_MODE: 'passthrough' }, () => visualLayerToken(DEMO_ACCOUNTS.primary)],
    ['jwt', { AUTH_MODE: 'jwt', JWT_SECRET }, () => createSigner({ key: JWT_SECRET, algorithm: 'HS256' })({ sub: 'user-1', exp: Math.floor(Date.now() / 1000) + 300 })]
  ]

  it.each(modes)('stops 240 aliased task pages at the default of 200 calls (%s), the rest refused with QUERY_REJECTED at no cost', async (_mode, env, sign) => {
    // The alias and cost limits refuse this document before it runs (test/graphql/cost.test.ts): raised
    // here, so that the run-time budget behind them is what stops it.
    const gw = await gateway({ ...env, MAX_QUERY_ALIASES: '1000', MAX_QUERY_COST: '100000' })
    const token = { authorization: `Bearer ${sign()}` }
    const document = `{ ${Array.from({ length: 240 }, (_, i) => `p${i + 1}: tasks(page: ${i + 1}) { total }`).join(' ')} }`
    const res = await gw.gql(document, undefined, { ...token, 'x-request-id': 'req-aliases' })
    expect(gw.emulator.calls({ path: '/api/v1/tasks' })).toHaveLength(200)
    expect(gw.emulator.calls()).toHaveLength(200)
    // Query.tasks is non-null: the first refused page nulls the whole data, and graphql-js reports it alone.
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      data: null,
      errors: [{ message: budgetMessage(200, 'the task list'), locations: [{ line: 1, column: 6387 }], path: ['p201'], extensions: { code: 'QUERY_REJECTED', requestId: 'req-aliases' } }]
    })

    // The budget is the operation's: the next one has its own.
    gw.emulator.clearCalls()
    expect((await gw.gql('{ tasks(page: 1) { total } }', undefined, token)).body).toEqual({ data: { tasks: { total: 46 } } })
    expect(gw.emulator.calls()).toHaveLength(1)
  })

  it('reports one error for a list whose ids outrun the budget, with what was sent counted exactly', async () => {
    const gw = await gateway({ MAX_UPSTREAM_CALLS_PER_OPERATION: '3' })
    const ids = [SEED.datasets.ready, SEED.datasets.readOnly, SEED.datasets.enriched, SEED.datasets.partialIndex, SEED.datasets.readySecond]
    const res = await gw.gql(`{ datasetsByIds(ids: ${JSON.stringify(ids)}) { id } }`)
    expect(res.body.errors?.map((e) => [e.extensions?.code, e.path])).toEqual([['QUERY_REJECTED', ['datasetsByIds']]])
    expect(gw.emulator.calls()).toHaveLength(3)
  })

  it('counts every retry as a call', async () => {
    const gw = await gateway({ MAX_UPSTREAM_CALLS_PER_OPERATION: '3', UPSTREAM_RETRIES: '2', UPSTREAM_BATCH_CONCURRENCY: '1' })
    gw.emulator.injectFault({ path: `/api/v1/dataset/${ready}`, status: 503, times: 2 })
    const retried = await gw.gql(`{ a: dataset(id: "${ready}") { id } b: dataset(id: "${readOnly}") { id } }`, undefined, { 'x-request-id': 'req-retries' })
    expect(retried.body).toEqual({
      data: { a: { id: ready }, b: null },
      errors: [{ message: budgetMessage(3, `dataset ${readOnly}`), locations: [{ line: 1, column: 65 }], path: ['b'], extensions: { code: 'QUERY_REJECTED', requestId: 'req-retries' } }]
    })
    expect(gw.emulator.calls().map((c) => `${c.path} ${c.status}`)).toEqual([`/api/v1/dataset/${ready} 503`, `/api/v1/dataset/${ready} 503`, `/api/v1/dataset/${ready} 200`])
  })

  it('gives the failure itself, not a refusal, when the budget leaves no room for a retry', async () => {
    const gw = await gateway({ MAX_UPSTREAM_CALLS_PER_OPERATION: '2', UPSTREAM_RETRIES: '2', UPSTREAM_BATCH_CONCURRENCY: '1' })
    gw.emulator.injectFault({ path: `/api/v1/dataset/${ready}`, status: 503, times: 3 })
    const res = await gw.gql(`{ a: dataset(id: "${ready}") { id } b: dataset(id: "${readOnly}") { id } }`)
    expect(res.body.errors?.map((e) => [e.path, e.extensions?.code, e.extensions?.upstream])).toEqual([[['a'], 'UPSTREAM_UNAVAILABLE', { status: 503 }], [['b'], 'QUERY_REJECTED', undefined]])
    expect(gw.emulator.calls().map((c) => `${c.path} ${c.status}`)).toEqual([`/api/v1/dataset/${ready} 503`, `/api/v1/dataset/${ready} 503`])
  })

  it('does not charge a read shared with another operation\'s call in flight', async () => {
    const gw = await gateway({ MAX_UPSTREAM_CALLS_PER_OPERATION: '1' })
    gw.emulator.injectFault({ path: `/api/v1/dataset/${ready}`, hold: 'first' })
    const arrived = nextCall(gw.emulator, { path: `/api/v1/dataset/${ready}`, phase: 'arrived' })
    const first = gw.gql(`{ dataset(id: "${ready}") { id } }`)
    // The second operation starts once the first one's call has reached Visual Layer (which holds it),
    // and its read of that dataset joins it; then Visual Layer answers.
    await arrived
    const joined = nextEvent<{ path: string }>('the second read to join the first', onChannel('visual-layer:upstream:shared-read'), (m) => m.path === `/api/v1/dataset/${ready}`)
    const pending = gw.gql(`{ a: dataset(id: "${ready}") { id } b: dataset(id: "${readOnly}") { id } }`)
    await joined
    expect(gw.emulator.release('first')).toBe(1)
    const second = await pending
    expect(second.body).toEqual({ data: { a: { id: ready }, b: { id: readOnly } } })
    expect((await first).body).toEqual({ data: { dataset: { id: ready } } })
    expect(gw.emulator.calls().map((c) => c.path).sort()).toEqual([`/api/v1/dataset/${readOnly}`, `/api/v1/dataset/${ready}`])
  })

  it('applies to each operation over WebSocket too', async () => {
    const gw = await gateway({ MAX_UPSTREAM_CALLS_PER_OPERATION: '2' })
    const client = wsClient(gw.url)
    clients.push(client)
    const aliases = `{ a: dataset(id: "${ready}") { id } b: dataset(id: "${readOnly}") { id } c: dataset(id: "${SEED.datasets.enriched}") { id } }`
    const first = record(client, aliases)
    await first.done
    expect(first.events.map((e) => [e.data, e.errors?.map((x) => [x.path, x.extensions?.code])])).toEqual([
      [{ a: { id: ready }, b: { id: readOnly }, c: null }, [[['c'], 'QUERY_REJECTED']]]
    ])
    expect(gw.emulator.calls()).toHaveLength(2)
    // A second operation on the same connection has a budget of its own.
    const second = record(client, `{ dataset(id: "${SEED.datasets.enriched}") { id } }`)
    await second.done
    expect(second.events.map((e) => e.data)).toEqual([{ dataset: { id: SEED.datasets.enriched } }])
    expect(gw.emulator.calls()).toHaveLength(3)
  })

  it('gives each event of a subscription a budget of its own: a long subscription does not spend it', async () => {
    const time = new ManualTime()
    const gw = await gateway({ MAX_UPSTREAM_CALLS_PER_OPERATION: '1', POLL_INTERVAL_MS: '250' }, { liveTime: time })
    const client = wsClient(gw.url)
    clients.push(client)
    const indexing = SEED.datasets.indexing
    const taskId = SEED.tasks.indexingCreation
    type TaskEvent = { taskUpdated: { progress: number | null, dataset: { id: string } | null } }
    // Subscribing reads the dataset (1 call); each event reads it again for Task.dataset (1 call each).
    const sub = record<TaskEvent>(client, `subscription { taskUpdated(datasetId: "${indexing}", taskId: "${taskId}") { progress dataset { id } } }`)
    await sub.received(1)
    await asleep(gw, time)
    // Each step: 3 s on for Visual Layer, then the poller polls (time moves to its timer).
    // A poll that found a change is an event on its way.
    let changes = 0
    for (let step = 0; step < 20 && changes < 2; step++) {
      gw.emulator.advance(3_000)
      const turn = nextTurn(gw, indexing)
      time.runNext()
      const round = await turn
      if (round === null) break
      if (round.outcome === 'changed') await sub.received(1 + ++changes)
    }
    sub.stop()
    expect(sub.events.length).toBeGreaterThanOrEqual(3)
    for (const event of sub.events) expect([event.errors, event.data?.taskUpdated.dataset]).toEqual([undefined, { id: indexing }])
  })
})
