import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { PollRoundMessage } from '../../src/domain/live/events.js'
import { SEED } from '../../src/emulator/index.js'
import type { TestGateway } from '../helpers/gateway.js'
import { closeClients, keepClient, LIVE_DOORS, liveQueriesOf, liveQueriesSettled, openLive, resultOf, type LiveRecorded } from '../helpers/live-query.js'
import { ManualTime } from '../helpers/manual-time.js'
import { AUTH_MODES, freshToken, inTokenModes, startModeGateway } from '../helpers/modes.js'
import { allPollersStopped, countTurns, pollsSettled, type TurnCount } from '../helpers/polls.js'
import { setImmediate } from 'node:timers/promises'
import { onChannel, when } from '../helpers/wait.js'
import { wsClient } from '../helpers/ws.js'

/**
 * `@live` queries with real clients over each door that streams them, in every auth mode with tokens
 * that expire. The emulator's clock and the pollers' (ManualTime) move when the test says; the test
 * waits for the polls it set off and for the live queries' executions (their diagnostics channel),
 * never for time. Upstream calls are counted from the emulator's call log.
 */

const INTERVAL = 250
/** The dataset page of a frontend app, as one query. */
const PAGE_FIELDS = `dataset(id: $id) {
  id displayName status progress imageCount
  creationStatus { status progress }
  models { id name isActive }
  enrichment { id status applied { type modelId } }
  tasks(pageSize: 20) { total hasNextPage nodes { id type status progress } }
}`
const LIVE_PAGE = `query DatasetPage($id: ID!) @live { ${PAGE_FIELDS} }`
const PAGE = `query DatasetPage($id: ID!) { ${PAGE_FIELDS} }`
/** The upstream reads of one execution of the page, besides the dataset and its task list the pollers read. */
const UNPOLLED_READS = 3

const rounds = onChannel<PollRoundMessage>('visual-layer:live:round')

function headers (token: string | null): Record<string, string> {
  return token === null ? {} : { authorization: `Bearer ${token}` }
}

describe.each(AUTH_MODES)('@live queries (AUTH_MODE=%s)', (mode) => {
  let gw: TestGateway
  const time = new ManualTime()
  beforeAll(async () => {
    gw = await startModeGateway(mode, { POLL_INTERVAL_MS: String(INTERVAL), WS_MAX_CONNECTIONS_PER_CALLER: '50', SSE_MAX_STREAMS_PER_CALLER: '50', LIVE_QUERIES_PER_CALLER: '1000' }, { liveTime: time })
  })
  afterEach(async () => {
    await closeClients()
    await allPollersStopped(gw)
  })
  afterAll(async () => { await gw.close() })

  /** A fresh (not live) query of the page now, in the same scope: what the client must hold. */
  async function fresh (token: string | null, id: string): Promise<unknown> {
    const res = await gw.gql(PAGE, { id }, headers(token))
    expect(res.status).toBe(200)
    return res.body
  }

  /** Both pollers (the dataset's, its task list's) polled once and sleep, and what that set off has run. */
  async function pollersAsleep (turns: TurnCount): Promise<void> {
    await when('both pollers to end their first round', rounds, () => turns.count >= 2)
    turns.close()
    await setImmediate()
    expect(time.pending).toBe(2)
    await liveQueriesSettled(gw)
  }

  /** One interval: both pollers poll; resolves once their rounds and the executions they set off ended; how many polls saw a change. */
  async function interval (): Promise<number> {
    let changed = 0
    const stop = rounds((m) => { if (m.registry === gw.app.live && m.outcome === 'changed') changed++ })
    const turns = countTurns(gw)
    const granted = gw.app.live.turnsGranted
    try {
      expect(time.advance(INTERVAL * 1.11)).toBe(2)
      await pollsSettled(gw, turns, granted)
      await when('the two polls to end', rounds, () => turns.count >= 2)
      await liveQueriesSettled(gw)
      return changed
    } finally {
      stop()
      turns.close()
    }
  }

  for (const door of LIVE_DOORS) {
    it(`${door}: the whole page first, then each change of the dataset or of a task on it, once, in order; patches give what a fresh query returns`, async () => {
      gw.emulator.reset()
      const id = SEED.datasets.indexing
      const token = freshToken(mode, { ttlSec: 600 })
      const queries = liveQueriesOf(gw)
      const turns = countTurns(gw)
      const whole = openLive(door, gw, { query: LIVE_PAGE, variables: { id }, token })
      await whole.received(1)
      const patched = openLive(door, gw, { query: LIVE_PAGE, variables: { id }, token, patches: true })
      await patched.received(1)
      await pollersAsleep(turns)
      // One execution for both (same document, variables and scope), then one poll of each resource it read.
      expect(gw.emulator.calls().map((c) => `${c.method} ${c.path.replace(id, 'ID')}`).sort()).toEqual([
        'GET /api/v1/dataset/ID', 'GET /api/v1/dataset/ID',
        'GET /api/v1/datasets/ID/creation-status',
        'GET /api/v1/enrichment/ID/context',
        'GET /api/v1/enrichment/ID/list_models',
        'GET /api/v1/tasks', 'GET /api/v1/tasks'
      ])
      expect(queries.size).toEqual({ executions: 1, subscribers: 2 })
      expect(await resultOf(whole.messages)).toEqual(await fresh(token, id))
      expect(patched.messages[0]).toEqual({ ...whole.messages[0], revision: 1 })

      // A poll that sees no change: no execution, no message.
      const reexecuted = queries.counts.reexecutions
      let calls = gw.emulator.calls().length
      expect(await interval()).toBe(0)
      expect(gw.emulator.calls().length - calls).toBe(2)
      expect(queries.counts.reexecutions).toBe(reexecuted)
      expect(whole.messages).toHaveLength(1)
      expect(patched.messages).toHaveLength(1)

      // The dataset indexes to READY and its creation task runs to its end: each poll that saw a change
      // is one execution for both clients, reading only what no poller read; each new result is sent once.
      let steps = 0
      for (; steps < 30; steps++) {
        const page = (await resultOf(whole.messages)).data as { dataset: { status: string, tasks: { nodes: Array<{ status: string }> } } }
        if (page.dataset.status === 'READY' && page.dataset.tasks.nodes.every((task) => task.status === 'COMPLETED')) break
        gw.emulator.advance(3000)
        calls = gw.emulator.calls().length
        const before = queries.counts.reexecutions
        const sent = whole.messages.length
        const changed = await interval()
        const executions = queries.counts.reexecutions - before
        expect(executions).toBe(changed)
        expect(gw.emulator.calls().length - calls).toBe(2 + UNPOLLED_READS * executions)
        expect(whole.messages.length - sent).toBeLessThanOrEqual(executions)
        expect(patched.messages).toHaveLength(whole.messages.length)
        const now = await fresh(token, id)
        expect(await resultOf(whole.messages)).toEqual(now)
        expect(await resultOf(patched.messages)).toEqual(now)
      }
      expect(steps).toBeGreaterThan(3)
      expect(steps).toBeLessThan(30)
      // In order, each once: no two messages alike, progress never back.
      const pages = whole.messages.map((m) => (m.data as { dataset: { progress: number, tasks: { nodes: Array<{ progress: number }> } } }).dataset)
      for (let i = 1; i < pages.length; i++) {
        expect(JSON.stringify(pages[i])).not.toBe(JSON.stringify(pages[i - 1]))
        expect(pages[i]?.tasks.nodes[0]?.progress).toBeGreaterThanOrEqual(pages[i - 1]?.tasks.nodes[0]?.progress ?? 101)
      }
      for (const message of patched.messages.slice(1)) expect(message).toEqual({ patch: expect.any(Array), revision: expect.any(Number) })
      expect(patched.messages.map((m) => m.revision)).toEqual(patched.messages.map((_m, i) => i + 1))
      whole.stop()
      patched.stop()
      await allPollersStopped(gw)
    })

    inTokenModes(mode)(`${door}: the token expires: the live query ends UNAUTHENTICATED and its pollers stop`, async () => {
      gw.emulator.reset()
      const id = SEED.datasets.readOnly
      const live = openLive(door, gw, { query: LIVE_PAGE, variables: { id }, token: freshToken(mode, { ttlSec: 2 }) })
      await live.received(1)
      await live.done
      expect(live.messages).toHaveLength(2)
      expect(live.messages[1]).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] })
      await allPollersStopped(gw)
      expect(liveQueriesOf(gw).size).toEqual({ executions: 0, subscribers: 0 })
    })
  }

  it('200 subscribers of one page on 4 sockets: one execution per change, one poll per resource per interval, nothing when no poll saw a change', async () => {
    gw.emulator.reset()
    const id = SEED.datasets.indexing
    const token = freshToken(mode, { ttlSec: 600 })
    const queries = liveQueriesOf(gw)
    const turns = countTurns(gw)
    const first = openLive('websocket', gw, { query: LIVE_PAGE, variables: { id }, token })
    await first.received(1)
    await pollersAsleep(turns)
    const subscribers: LiveRecorded[] = [first]
    for (let c = 0; c < 4; c++) {
      const client = keepClient(wsClient(gw.url, token === null ? {} : { Authorization: `Bearer ${token}` }))
      for (let s = 0; s < (c === 3 ? 49 : 50); s++) subscribers.push(openLive('websocket', gw, { query: LIVE_PAGE, variables: { id }, token, patches: s % 2 === 1 }, client))
    }
    await Promise.all(subscribers.map(async (sub) => { await sub.received(1) }))
    await liveQueriesSettled(gw)
    expect(queries.size).toEqual({ executions: 1, subscribers: 200 })
    expect(gw.app.live.size).toBe(2)

    let calls = gw.emulator.calls().length
    const before = queries.counts.reexecutions
    expect(await interval()).toBe(0)
    expect(gw.emulator.calls().length - calls).toBe(2)
    expect(queries.counts.reexecutions).toBe(before)
    for (const sub of subscribers) expect(sub.messages).toHaveLength(1)

    for (let step = 0; step < 4; step++) {
      gw.emulator.advance(3000)
      calls = gw.emulator.calls().length
      const executed = queries.counts.reexecutions
      const changed = await interval()
      expect(changed).toBeGreaterThan(0)
      expect(queries.counts.reexecutions - executed).toBe(changed)
      expect(gw.emulator.calls().length - calls).toBe(2 + UNPOLLED_READS * changed)
      const now = await fresh(token, id)
      const count = first.messages.length
      await Promise.all(subscribers.map(async (sub) => { await sub.received(count) }))
      for (const sub of subscribers) {
        expect(sub.messages).toHaveLength(count)
        expect(await resultOf(sub.messages)).toEqual(now)
      }
    }
  })
})
