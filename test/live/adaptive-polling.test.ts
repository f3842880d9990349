import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Client } from 'graphql-ws'
import { DEMO_ACCOUNTS, SEED } from '../../src/emulator/index.js'
import type { PollRoundMessage } from '../../src/domain/live/events.js'
import type { TestGateway } from '../helpers/gateway.js'
import { AUTH_MODES, connectionParams, startModeGateway } from '../helpers/modes.js'
import { ManualTime } from '../helpers/manual-time.js'
import { allPollersStopped, getsOf, nextRound, pollNow } from '../helpers/polls.js'
import { visualLayerToken } from '../helpers/tokens.js'
import { record, wsClient } from '../helpers/ws.js'
import { nextEvent, onChannel } from '../helpers/wait.js'

/*
 * Adaptive polling (docs/live-status.md#adaptive-polling) with the real graphql-ws client on the
 * emulator, in every auth mode with tokens that expire. The pollers' time is the test's (ManualTime):
 * each step moves it to the poller's timer and waits for the round it set off; the emulator's clock
 * stands still unless a test moves it. Defaults: POLL_INTERVAL_MS 2 s, POLL_MAX_INTERVAL_MS 30 s.
 */

const FAST = 2000
const CEILING = 30_000
const TEN_MINUTES = 600_000
const statusQuery = (id: string, follow = true): string => `subscription { datasetStatusChanged(datasetId: "${id}", follow: ${String(follow)}) { id status progress } }`
type StatusEvent = { datasetStatusChanged: { id: string, status: string, progress: number } }
const ENRICH = { CAPTION_IMAGES: 'vl_image_captioner_v00' }
const rounds = onChannel<PollRoundMessage>('visual-layer:live:round')

/** The interval the n-th round of a settled resource's poller sleeps before jitter (n = 0: after its first poll, which saw a change). */
const settledBase = (n: number): number => Math.min(CEILING, FAST * 2 ** n)

/** Asserts `round` sleeps `base` with its ±10 % jitter, never past the ceiling. */
function expectInterval (round: PollRoundMessage | null, base: number): void {
  expect(round?.nextInMs).toBeGreaterThanOrEqual(Math.floor(base * 0.9))
  expect(round?.nextInMs).toBeLessThanOrEqual(Math.min(CEILING, Math.ceil(base * 1.1)))
}

/** Enriches dataset `id` on the emulator directly: a change the gateway does not see made. */
async function enrichOutsideTheGateway (gw: TestGateway, id: string): Promise<void> {
  const res = await fetch(`${gw.emulator.url}/api/v1/dataset/${id}/enrich_dataset`, {
    method: 'POST',
    headers: { authorization: `Bearer ${visualLayerToken(DEMO_ACCOUNTS.primary)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ enrichment_models: ENRICH })
  })
  expect(res.status).toBe(200)
}

describe.each(AUTH_MODES)('adaptive polling (AUTH_MODE=%s)', (mode) => {
  let gw: TestGateway
  const time = new ManualTime()
  const clients: Client[] = []
  const connect = (params = connectionParams(mode, { ttlSec: 300 })): Client => {
    const client = wsClient(gw.url, params)
    clients.push(client)
    return client
  }
  beforeAll(async () => {
    gw = await startModeGateway(mode, { POLL_INTERVAL_MS: String(FAST) }, { liveTime: time })
  })
  afterEach(async () => {
    await Promise.all(clients.splice(0).map(async (client) => { await client.dispose() }))
    await allPollersStopped(gw)
  })
  afterAll(async () => { await gw.close() })

  /** Subscribes to dataset `id` and lets its poller settle to the ceiling; the rounds it ended on the way. */
  async function settle (id: string, params?: Record<string, unknown>): Promise<{ sub: ReturnType<typeof record<StatusEvent>>, rounds: PollRoundMessage[] }> {
    const first = nextRound(gw, id)
    const sub = record<StatusEvent>(connect(params), statusQuery(id))
    await sub.received(1)
    const rounds = [await first]
    while ((rounds.at(-1)?.nextInMs ?? 0) < CEILING * 0.9) {
      const round = await pollNow(gw, time, id)
      if (round === null) throw new Error('the poller stopped')
      rounds.push(round)
    }
    return { sub, rounds }
  }

  it('polls a settled dataset watched for 10 minutes at most 30 times: the interval doubles from 2 s to the 30 s ceiling', async () => {
    gw.emulator.reset()
    const id = SEED.datasets.ready
    const before = getsOf(gw, id)
    const firstRound = nextRound(gw, id)
    const sub = record<StatusEvent>(connect(), statusQuery(id))
    await sub.received(1)
    const start = time.now()
    const rounds = [await firstRound]
    // Every poll whose time falls within the 10 minutes from the first one.
    while (time.now() + (time.nextInMs ?? Infinity) - start <= TEN_MINUTES) {
      const round = await pollNow(gw, time, id)
      if (round === null) throw new Error('the poller stopped')
      rounds.push(round)
    }
    const polls = rounds.length
    expect(getsOf(gw, id) - before).toBe(polls)
    expect(polls).toBeLessThanOrEqual(30)
    // With the jitter, from 1 + 4 + 18 (each interval 10 % long) to 1 + 4 + 21 (each 10 % short).
    expect(polls).toBeGreaterThanOrEqual(23)
    expect(polls).toBeLessThanOrEqual(26)
    expect(rounds.map((round) => round.outcome)).toEqual(['changed', ...Array(polls - 1).fill('unchanged')])
    rounds.forEach((round, n) => { expectInterval(round, settledBase(n)) })
    expect(sub.events.map((event) => event.data?.datasetStatusChanged)).toEqual([{ id, status: 'READY', progress: 100 }])
  })

  it('polls a dataset in motion (INDEXING) every fast interval', async () => {
    gw.emulator.reset()
    const id = SEED.datasets.indexing
    const before = getsOf(gw, id)
    const firstRound = nextRound(gw, id)
    const sub = record<StatusEvent>(connect(), statusQuery(id))
    await sub.received(1)
    const rounds = [await firstRound]
    for (let i = 0; i < 12; i++) rounds.push(await pollNow(gw, time, id) ?? rounds[0] as PollRoundMessage)
    expect(getsOf(gw, id) - before).toBe(13)
    for (const round of rounds) expectInterval(round, FAST)
    expect(rounds.slice(1).map((round) => round.outcome)).toEqual(Array(12).fill('unchanged'))
    expect(sub.events.map((event) => event.data?.datasetStatusChanged)).toEqual([{ id, status: 'INDEXING', progress: 14 }])
  })

  it('a change through the gateway reaches a settled dataset\'s subscribers with no time passing, and the poller is back at the fast interval', async () => {
    gw.emulator.reset()
    const id = SEED.datasets.ready
    // The same caller subscribes and writes (passthrough: a write wakes the pollers of its own scope).
    const params = connectionParams(mode, { ttlSec: 300 })
    const { sub } = await settle(id, params)
    const before = getsOf(gw, id)
    const changed = nextRound(gw, id)
    const at = time.now()
    const res = await gw.gql(
      `mutation { enrichDataset(datasetId: "${id}", models: [{ type: "CAPTION_IMAGES", modelId: "vl_image_captioner_v00" }]) { sourceDataset { status } } }`,
      {}, params as Record<string, string>
    )
    expect(res.body).toEqual({ data: { enrichDataset: { sourceDataset: { status: 'READ_ONLY' } } } })
    await sub.received(2)
    // Within one fast interval, and in fact at once: the pollers' time has not moved.
    expect(time.now()).toBe(at)
    expect(sub.events.map((event) => event.data?.datasetStatusChanged)).toEqual([
      { id, status: 'READY', progress: 100 },
      { id, status: 'READ_ONLY', progress: 100 }
    ])
    // READ_ONLY is in motion: the poll that saw it and the next ones sleep the fast interval.
    const round = await changed
    expect(round.outcome).toBe('changed')
    expectInterval(round, FAST)
    for (let i = 0; i < 3; i++) expectInterval(await pollNow(gw, time, id), FAST)
    // Four polls, and the mutation's own read of sourceDataset.
    expect(getsOf(gw, id) - before).toBe(5)
  })

  it('a change made outside the gateway to a settled dataset shows at the poller\'s next poll: at most the 30 s ceiling later', async () => {
    gw.emulator.reset()
    const id = SEED.datasets.ready
    const { sub, rounds } = await settle(id)
    const nap = rounds.at(-1)?.nextInMs ?? 0
    // The worst case: the change comes just after a poll.
    const changedAt = time.now()
    await enrichOutsideTheGateway(gw, id)
    // Nothing shows until the poller's timer: no poll, no event meanwhile.
    await record(connect(), '{ __typename }').done
    expect(sub.events).toHaveLength(1)
    const round = await pollNow(gw, time, id)
    expect(round?.outcome).toBe('changed')
    await sub.received(2)
    const delay = time.now() - changedAt
    expect(delay).toBe(nap)
    expect(delay).toBeGreaterThanOrEqual(CEILING * 0.9)
    expect(delay).toBeLessThanOrEqual(CEILING)
    expect(sub.events.at(-1)?.data?.datasetStatusChanged).toEqual({ id, status: 'READ_ONLY', progress: 100 })
  })

  it('a task of a settled dataset seen changing brings the dataset\'s poller back to the fast interval at once', async () => {
    gw.emulator.reset()
    // READY, with a metadata import running that does not lock it, and ends within 3 hours.
    const id = SEED.datasets.readySecond
    const { sub, rounds: settled } = await settle(id)
    const datasetDue = time.now() + (settled.at(-1)?.nextInMs ?? 0)
    const datasetRound = (m: PollRoundMessage): boolean => m.registry === gw.app.live && m.key.startsWith('dataset ')
    const tasksRound = (m: PollRoundMessage): boolean => m.registry === gw.app.live && m.key.startsWith('tasks ')
    // The task list of the same dataset, watched too: its first look is the baseline; a task in motion keeps it fast.
    const firstLook = nextEvent('the task list\'s first look', rounds, tasksRound)
    const tasks = record<{ taskUpdated: { id: string, status: string } }>(connect(), `subscription { taskUpdated(datasetId: "${id}") { id status } }`)
    expectInterval(await firstLook, FAST)
    // Two timers: the task list's in 2 s, the dataset's near the ceiling.
    expect(time.pending).toBe(2)
    gw.emulator.advance(3 * 3600_000)
    const seen = nextEvent('the task list\'s poll', rounds, tasksRound)
    time.runNext()
    expect(await seen).toMatchObject({ outcome: 'changed' })
    await tasks.received(1)
    expect(tasks.events.map((event) => event.data?.taskUpdated)).toEqual([{ id: SEED.tasks.readySecondMetadataRunning, status: 'COMPLETED' }])
    // The dataset's poller was re-armed: it polls within one fast interval of the change, long before its old timer.
    const changedAt = time.now()
    const hurried = nextEvent('the dataset\'s poll', rounds, datasetRound)
    time.advance(Math.ceil(FAST * 1.1))
    const round = await hurried
    expect(round.outcome).toBe('unchanged')
    expect(time.now() - changedAt).toBeLessThanOrEqual(FAST * 1.1)
    expect(datasetDue - changedAt).toBeGreaterThan(FAST * 1.1)
    // Settled and unchanged again: the doubling starts over.
    expectInterval(round, settledBase(1))
    expect(sub.events).toHaveLength(1)
  })
})
