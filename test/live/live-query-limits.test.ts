import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { PollRoundMessage } from '../../src/domain/live/events.js'
import { SEED } from '../../src/emulator/index.js'
import type { TestGateway } from '../helpers/gateway.js'
import { closeClients, LIVE_DOORS, liveQueriesOf, liveQueriesSettled, liveSubscribers, openLive, resultOf } from '../helpers/live-query.js'
import { ManualTime } from '../helpers/manual-time.js'
import { AUTH_MODES, freshToken, startModeGateway } from '../helpers/modes.js'
import { allPollersStopped, countTurns } from '../helpers/polls.js'
import { onChannel, when } from '../helpers/wait.js'

/**
 * What bounds a live query, and what sets one off besides a poll: the refusals of @live where it does
 * not apply, the cap on resources one live query watches and on live queries per caller (each refusal
 * naming its limit), a write through the gateway, and each execution's own upstream call budget.
 */

const rounds = onChannel<PollRoundMessage>('visual-layer:live:round')
const PAGE_FIELDS = 'dataset(id: $id) { id status progress creationStatus { status progress } models { id } enrichment { id status } tasks(pageSize: 20) { total nodes { id type status progress } } }'
const LIVE_PAGE = `query DatasetPage($id: ID!) @live { ${PAGE_FIELDS} }`
const PAGE = `query DatasetPage($id: ID!) { ${PAGE_FIELDS} }`
const headers = (token: string | null): Record<string, string> => token === null ? {} : { authorization: `Bearer ${token}` }

describe.each(AUTH_MODES)('live query limits (AUTH_MODE=%s)', (mode) => {
  let gw: TestGateway
  const time = new ManualTime()
  beforeAll(async () => {
    gw = await startModeGateway(mode, {
      POLL_INTERVAL_MS: '250',
      LIVE_QUERY_MAX_RESOURCES: '2',
      LIVE_QUERIES_PER_CALLER: '2',
      // The page reads five records: every execution again has five calls of its own to spend.
      MAX_UPSTREAM_CALLS_PER_OPERATION: '5'
    }, { liveTime: time })
  })
  afterEach(async () => {
    await closeClients()
    await allPollersStopped(gw)
  })
  afterAll(async () => { await gw.close() })

  it('refuses @live on a mutation and on a subscription, saying why, on every door', async () => {
    gw.emulator.reset()
    const token = freshToken(mode)
    const cases = [
      ['mutation M($id: ID!) @live { abortTask(taskId: $id) { id } }', '@live applies to queries only: a mutation runs once, and its writes reach live queries and subscriptions by themselves. Remove @live, or put it on a query.'],
      ['subscription S($id: ID!) @live { datasetStatusChanged(datasetId: $id) { id } }', '@live applies to queries only: a subscription streams its events already. Remove @live, or put it on a query.']
    ] as const
    for (const [query, message] of cases) {
      const res = await gw.gql(query, { id: SEED.datasets.ready }, headers(token))
      expect(res.status).toBe(400)
      expect(res.body.errors?.map((error) => error.message)).toEqual([message])
      for (const door of LIVE_DOORS) {
        const live = openLive(door, gw, { query, variables: { id: SEED.datasets.ready }, token })
        const outcome = await live.done.then(() => live.messages, (err: unknown) => err)
        expect(JSON.stringify(outcome)).toContain(message)
      }
    }
    expect(gw.emulator.calls()).toEqual([])
  })

  it('ends a live query that reads more resources than LIVE_QUERY_MAX_RESOURCES, naming the limit, and watches none of them', async () => {
    gw.emulator.reset()
    const token = freshToken(mode)
    const ids = [SEED.datasets.ready, SEED.datasets.readOnly, SEED.datasets.partialIndex]
    for (const door of LIVE_DOORS) {
      const live = openLive(door, gw, { query: 'query Many($ids: [ID!]!) @live { datasetsByIds(ids: $ids) { id status } }', variables: { ids }, token })
      await live.done
      expect(live.messages).toEqual([{
        data: null,
        errors: [{
          message: 'This live query reads 3 upstream resources; one live query may watch at most 2 (LIVE_QUERY_MAX_RESOURCES). Ask for fewer datasets, or run the query without @live.',
          extensions: { code: 'QUERY_REJECTED', requestId: expect.any(String) }
        }]
      }])
    }
    expect(gw.emulator.calls({ method: 'GET' })).toHaveLength(3 * LIVE_DOORS.length)
    expect(gw.app.live.size).toBe(0)
    expect(liveQueriesOf(gw).size).toEqual({ executions: 0, subscribers: 0 })
  })

  it('refuses a caller its third live query (LIVE_QUERIES_PER_CALLER), and takes one again once one ended', async () => {
    gw.emulator.reset()
    const token = freshToken(mode)
    const query = 'query One($id: ID!) @live { dataset(id: $id) { id status } }'
    // passthrough: a token Visual Layer has accepted counts in its API key's lane on every door (an unproven one in its address's until then).
    expect((await gw.gql(query, { id: SEED.datasets.ready }, headers(token))).status).toBe(200)
    const first = openLive('websocket', gw, { query, variables: { id: SEED.datasets.ready }, token })
    const second = openLive('sse', gw, { query, variables: { id: SEED.datasets.readOnly }, token })
    await first.received(1)
    await second.received(1)
    for (const door of LIVE_DOORS) {
      const third = openLive(door, gw, { query, variables: { id: SEED.datasets.partialIndex }, token })
      await third.done
      expect(third.messages).toEqual([{
        data: null,
        errors: [{
          message: 'Too many live queries: at most 2 per caller (LIVE_QUERIES_PER_CALLER). End one first, or run the query without @live.',
          extensions: { code: 'RATE_LIMITED', requestId: expect.any(String) }
        }]
      }])
    }
    first.stop()
    await liveSubscribers(gw, 1)
    const again = openLive('http', gw, { query, variables: { id: SEED.datasets.partialIndex }, token })
    await again.received(1)
    expect(again.messages[0]).toEqual({ data: { dataset: { id: SEED.datasets.partialIndex, status: 'PARTIAL_INDEX' } } })
  })

  it('a write through the gateway sets off an execution at once, under a call budget of its own', async () => {
    gw.emulator.reset()
    const token = freshToken(mode)
    const id = SEED.datasets.ready
    const turns = countTurns(gw)
    const live = openLive('websocket', gw, { query: LIVE_PAGE, variables: { id }, token, patches: true })
    await live.received(1)
    await when('both pollers to end their first round', rounds, () => turns.count >= 2)
    turns.close()
    await liveQueriesSettled(gw)
    expect(live.messages).toHaveLength(1)
    const res = await gw.gql('mutation E($id: ID!) { enrichDataset(datasetId: $id, models: [{ type: "CAPTION_IMAGES", modelId: "vl_image_captioner_v00" }]) { enrichedDatasetId } }', { id }, headers(token))
    expect(res.body.errors).toBeUndefined()
    // No time passes: the write itself (and the polls it woke) set off what follows.
    await live.received(2)
    await liveQueriesSettled(gw)
    const now = (await gw.gql(PAGE, { id }, headers(token))).body
    expect(await resultOf(live.messages)).toEqual(now)
    const page = (now as { data: { dataset: { status: string, tasks: { nodes: Array<{ type: string }> } } } }).data.dataset
    expect(page.status).toBe('READ_ONLY')
    expect(page.tasks.nodes[0]?.type).toBe('ENRICHMENT')
    // Several executions in all, each within five calls: none met the budget.
    expect(liveQueriesOf(gw).counts.reexecutions).toBeGreaterThan(0)
    for (const message of live.messages) expect(message.errors).toBeUndefined()
  })
})
