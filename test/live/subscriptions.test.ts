import { createHook } from 'node:async_hooks'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_ACCOUNTS, SEED } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { AUTH_MODES, connectionParams, freshToken, startModeGateway } from '../helpers/modes.js'
import { visualLayerToken } from '../helpers/tokens.js'
import { ManualTime } from '../helpers/manual-time.js'
import { allPollersStopped, countTurns, getsOf, nextRound, pollerStopped, pollNow, pollsSettled } from '../helpers/polls.js'
import { DEADLINE_MS, nextEvent, onChannel, when } from '../helpers/wait.js'
import { record, wsClient, type Recorded } from '../helpers/ws.js'
import type { Client } from 'graphql-ws'

/**
 * Live status with the real graphql-ws client against the gateway on the emulator. The emulator's
 * clock is moved by the test, and so is the pollers' (ManualTime): an interval passes when the test
 * says, and the test waits for the round it set off (test/helpers/polls.ts), never for time. Each
 * suite runs in every auth mode, its clients holding tokens that expire (see test/live/lifetime.test.ts).
 */

const INTERVAL = 250
const statusQuery = (id: string, follow = false): string => `subscription { datasetStatusChanged(datasetId: "${id}", follow: ${String(follow)}) { id status progress } }`
type StatusEvent = { datasetStatusChanged: { id: string, status: string, progress: number } }

const clients: Client[] = []
/** Gateways started in a test body: closed after it even when it fails. */
const gateways: TestGateway[] = []
function connect (gw: TestGateway, params: Record<string, unknown> = {}): Client {
  const client = wsClient(gw.url, params)
  clients.push(client)
  return client
}
afterEach(async () => {
  await Promise.all(clients.splice(0).map(async (client) => { await client.dispose() }))
  await Promise.all(gateways.splice(0).map(async (gw) => { await gw.close() }))
})

/**
 * Moves the emulator clock in steps until `done`, each step followed by a poll of dataset `id`'s
 * poller (time moved to its timer), which sees it; stops early when the poller stopped (its
 * subscribers completed).
 */
async function drive (gw: TestGateway, time: ManualTime, id: string, done: () => boolean, stepMs = 3000, maxSteps = 40): Promise<void> {
  for (let i = 0; i < maxSteps && !done() && time.pending > 0; i++) {
    gw.emulator.advance(stepMs)
    await pollNow(gw, time, id)
  }
}

/** Resolves after a round trip on `client`'s socket: whatever the server sent on it before has arrived. */
async function flush (client: Client): Promise<void> {
  await record(client, '{ __typename }').done
}

describe.each(AUTH_MODES)('datasetStatusChanged (AUTH_MODE=%s)', (mode) => {
  let gw: TestGateway
  const time = new ManualTime()
  beforeAll(async () => {
    gw = await startModeGateway(mode, { POLL_INTERVAL_MS: String(INTERVAL), WS_MAX_CONNECTIONS_PER_CALLER: '50' }, { liveTime: time })
  })
  afterEach(async () => {
    // The next test finds no poller left over, and its poller's timer alone.
    await Promise.all(clients.splice(0).map(async (client) => { await client.dispose() }))
    await allPollersStopped(gw)
  })
  afterAll(async () => {
    await gw.close()
  })

  it('gives 200 subscribers one poller: one upstream GET per interval, the same ordered duplicate-free sequence, READY, then complete', async () => {
    gw.emulator.reset()
    const id = SEED.datasets.indexing
    const params = connectionParams(mode)
    const first = record<StatusEvent>(connect(gw, params), statusQuery(id))
    await first.received(1)
    // The others join the running poller: their first event is its current value, at once.
    const others: Array<Recorded<StatusEvent>> = []
    for (let c = 0; c < 4; c++) {
      const client = connect(gw, params)
      for (let s = 0; s < (c === 3 ? 49 : 50); s++) others.push(record<StatusEvent>(client, statusQuery(id)))
    }
    await Promise.all(others.map(async (sub) => { await sub.received(1) }))
    for (const sub of others) expect(sub.events[0]).toEqual(first.events[0])

    // With the emulator's clock still, the poller polls once per interval (±10 % jitter) for all
    // 200: over 8 intervals, no GET before 0.9 of an interval has passed, and one by 1.1.
    const before = getsOf(gw, id)
    for (let i = 0; i < 8; i++) {
      expect(time.advance(INTERVAL * 0.89)).toBe(0)
      expect(time.advance(INTERVAL * 0.22)).toBe(1)
      expect(await nextRound(gw, id)).toMatchObject({ outcome: 'unchanged' })
    }
    expect(getsOf(gw, id) - before).toBe(8)
    expect(first.events).toHaveLength(1)

    const all = [first, ...others]
    await drive(gw, time, id, () => all.every((sub) => sub.events.at(-1)?.data?.datasetStatusChanged.status === 'READY'))
    await Promise.all(all.map(async (sub) => { await sub.done }))
    const sequence = first.events.map((event) => event.data?.datasetStatusChanged)
    expect(sequence[0]).toEqual({ id, status: 'INDEXING', progress: 14 })
    expect(sequence.at(-1)).toEqual({ id, status: 'READY', progress: 100 })
    for (let i = 1; i < sequence.length; i++) {
      expect(JSON.stringify(sequence[i])).not.toBe(JSON.stringify(sequence[i - 1]))
      expect(sequence[i]?.progress).toBeGreaterThan(sequence[i - 1]?.progress ?? 100)
    }
    for (const sub of others) expect(sub.events).toEqual(first.events)
    // Once settled and every subscriber completed, the poller stops, holding no timer: no further GET in 3 intervals.
    await allPollersStopped(gw)
    expect(time.pending).toBe(0)
    const settled = getsOf(gw, id)
    time.advance(3 * INTERVAL * 1.1)
    expect(getsOf(gw, id)).toBe(settled)
  })

  it('stops polling within one interval after the last subscriber leaves', async () => {
    gw.emulator.reset()
    const id = SEED.datasets.readOnly
    const subs = Array.from({ length: 3 }, () => record<StatusEvent>(connect(gw, connectionParams(mode)), statusQuery(id, true)))
    await Promise.all(subs.map(async (sub) => { await sub.received(1) }))
    expect(subs[0]?.events[0]?.data?.datasetStatusChanged.status).toBe('READ_ONLY')
    // The poller polls on (a settled dataset, followed): a poll after every first event proves it before they leave.
    expect(await pollNow(gw, time, id)).toMatchObject({ outcome: 'unchanged' })
    const stopped = pollerStopped(gw, id)
    const left = time.now()
    for (const sub of subs) sub.stop()
    // It stops with no time passing (within an interval, however slow the machine), holding no timer: no poll in 4 more intervals.
    await stopped
    expect(time.now()).toBe(left)
    expect(time.pending).toBe(0)
    const after = getsOf(gw, id)
    time.advance(4 * INTERVAL * 1.1)
    expect(getsOf(gw, id)).toBe(after)
  })

  it('follows past READY when follow is true, and never completes on its own', async () => {
    gw.emulator.reset()
    const client = connect(gw, connectionParams(mode))
    const sub = record<StatusEvent>(client, statusQuery(SEED.datasets.ready, true))
    await sub.received(1)
    expect(sub.events[0]?.data?.datasetStatusChanged.status).toBe('READY')
    let completed = false
    void sub.done.then(() => { completed = true })
    // Four more polls (four intervals), each seeing READY again, and no complete (nor event) on the socket after them.
    const polled = getsOf(gw, SEED.datasets.ready)
    for (let i = 0; i < 4; i++) expect(await pollNow(gw, time, SEED.datasets.ready)).toMatchObject({ outcome: 'unchanged' })
    await flush(client)
    expect(getsOf(gw, SEED.datasets.ready)).toBe(polled + 4)
    expect(completed).toBe(false)
    expect(sub.events).toHaveLength(1)
    sub.stop()
  })

  it('completes at once for a settled dataset when follow is false', async () => {
    gw.emulator.reset()
    const sub = record<StatusEvent>(connect(gw, connectionParams(mode)), statusQuery(SEED.datasets.error))
    await sub.done
    expect(sub.events).toEqual([{ data: { datasetStatusChanged: { id: SEED.datasets.error, status: 'ERROR', progress: 37 } } }])
  })

  it('ends with NOT_FOUND for a dataset that does not exist or is not visible', async () => {
    gw.emulator.reset()
    const sub = record<StatusEvent>(connect(gw, connectionParams(mode)), statusQuery(SEED.datasets.secondaryAccount))
    await expect(sub.done).rejects.toEqual([expect.objectContaining({
      message: `Visual Layer has no dataset ${SEED.datasets.secondaryAccount}, or you may not see it.`,
      extensions: expect.objectContaining({ code: 'NOT_FOUND', upstream: { status: 404 } })
    })])
  })

  it('refuses a malformed id with BAD_USER_INPUT and no upstream call', async () => {
    gw.emulator.reset()
    const sub = record<StatusEvent>(connect(gw, connectionParams(mode)), statusQuery('not-an-id'))
    // An error before the stream starts comes as one result with errors, then complete (graphql-ws).
    await sub.done
    expect(sub.events).toEqual([{
      errors: [{
        message: 'Argument datasetId must be a Visual Layer id (a UUID such as ad48d250-1232-11f1-bfca-fa39f6ed1f22); got "not-an-id".',
        locations: [{ line: 1, column: 16 }],
        path: ['datasetStatusChanged'],
        extensions: { code: 'BAD_USER_INPUT', requestId: expect.any(String) }
      }]
    }])
    expect(gw.emulator.calls()).toEqual([])
  })

  it('keeps its subscribers while Visual Layer fails, backing off, and they hear no false change', async () => {
    gw.emulator.reset()
    const id = SEED.datasets.indexing
    const client = connect(gw, connectionParams(mode))
    const sub = record<StatusEvent>(client, statusQuery(id))
    await sub.received(1)
    gw.emulator.injectFault({ path: `/api/v1/dataset/${id}`, status: 503, body: { detail: 'maintenance' }, times: 4 })
    const before = getsOf(gw, id)
    // 8 intervals, one at a time; each poll that falls due runs to its end before time moves on.
    const outcomes: string[] = []
    for (let i = 0; i < 8; i++) {
      if (time.advance(INTERVAL) === 0) continue
      outcomes.push((await nextRound(gw, id)).outcome)
    }
    await flush(client)
    // Backing off: fewer polls than the 8 intervals would give, the first of them failed; no event meanwhile.
    expect(getsOf(gw, id) - before).toBeLessThanOrEqual(5)
    expect(outcomes[0]).toBe('error')
    expect(gw.emulator.calls({ path: `/api/v1/dataset/${id}` }).filter((c) => c.status === 503).length).toBeGreaterThanOrEqual(1)
    expect(sub.events).toHaveLength(1)
    // A step each poll: time moves to the poller's timer, however long it sleeps off its failures.
    await drive(gw, time, id, () => sub.events.at(-1)?.data?.datasetStatusChanged.status === 'READY', 5000)
    await sub.done
    expect(sub.events.at(-1)?.data?.datasetStatusChanged).toEqual({ id, status: 'READY', progress: 100 })
  })
})

describe.each(AUTH_MODES)('taskUpdated (AUTH_MODE=%s)', (mode) => {
  let gw: TestGateway
  const time = new ManualTime()
  beforeAll(async () => { gw = await startModeGateway(mode, { POLL_INTERVAL_MS: String(INTERVAL) }, { liveTime: time }) })
  afterEach(async () => {
    await Promise.all(clients.splice(0).map(async (client) => { await client.dispose() }))
    await allPollersStopped(gw)
  })
  afterAll(async () => { await gw.close() })
  type TaskEvent = { taskUpdated: { id: string, status: string, progress: number | null } }
  const taskPolls = (): number => gw.emulator.calls({ method: 'GET', path: '/api/v1/tasks' }).length

  it('with taskId: the task now, every change, and complete after it finishes', async () => {
    gw.emulator.reset()
    const taskId = SEED.tasks.indexingCreation
    const sub = record<TaskEvent>(connect(gw, connectionParams(mode)), `subscription { taskUpdated(datasetId: "${SEED.datasets.indexing}", taskId: "${taskId}") { id status progress } }`)
    await sub.received(1)
    expect(sub.events[0]?.data?.taskUpdated).toEqual({ id: taskId, status: 'RUNNING', progress: 14 })
    await drive(gw, time, SEED.datasets.indexing, () => sub.events.at(-1)?.data?.taskUpdated.status === 'COMPLETED')
    await sub.done
    expect(sub.events.at(-1)?.data?.taskUpdated).toEqual({ id: taskId, status: 'COMPLETED', progress: 100 })
    const calls = gw.emulator.calls().filter((c) => c.path === '/api/v1/tasks')
    expect(calls[0]?.query).toEqual({ dataset_id: SEED.datasets.indexing, sort_by: 'start_time', sort_order: 'desc', page: '1', page_size: '50' })
  })

  it('without taskId: only changes, from the moment of subscribing', async () => {
    gw.emulator.reset()
    const firstLook = nextRound(gw, SEED.datasets.draft)
    const client = connect(gw, connectionParams(mode))
    const sub = record<TaskEvent>(client, `subscription { taskUpdated(datasetId: "${SEED.datasets.draft}") { id status } }`)
    // The poller runs: its first look, then three more polls (three intervals) that find no change.
    await firstLook
    const looked = taskPolls()
    for (let i = 0; i < 3; i++) expect(await pollNow(gw, time, SEED.datasets.draft)).toMatchObject({ outcome: 'unchanged' })
    expect(taskPolls()).toBe(looked + 3)
    await flush(client)
    expect(sub.events).toEqual([])
    gw.emulator.advance(61_000) // the creation task starts RUNNING at +60 s
    expect(await pollNow(gw, time, SEED.datasets.draft)).toMatchObject({ outcome: 'changed' })
    await sub.received(1)
    expect(sub.events[0]?.data?.taskUpdated).toEqual({ id: SEED.tasks.draftCreation, status: 'RUNNING' })
    sub.stop()
  })

  it('refuses a dataset that does not exist or is not visible with NOT_FOUND, without watching it', async () => {
    gw.emulator.reset()
    const sub = record<TaskEvent>(connect(gw, connectionParams(mode)), `subscription { taskUpdated(datasetId: "${SEED.datasets.secondaryAccount}") { id } }`)
    await sub.done
    expect(sub.events).toEqual([{
      errors: [expect.objectContaining({ message: `Visual Layer has no dataset ${SEED.datasets.secondaryAccount}, or you may not see it.`, extensions: expect.objectContaining({ code: 'NOT_FOUND' }) })]
    }])
    expect(gw.emulator.calls().map((c) => `${c.path} ${c.status}`)).toEqual([`/api/v1/dataset/${SEED.datasets.secondaryAccount} 404`])
  })

  it('ends with NOT_FOUND for a task that is not the dataset\'s', async () => {
    gw.emulator.reset()
    const sub = record<TaskEvent>(connect(gw, connectionParams(mode)), `subscription { taskUpdated(datasetId: "${SEED.datasets.draft}", taskId: "${SEED.tasks.indexingCreation}") { id } }`)
    await expect(sub.done).rejects.toEqual([expect.objectContaining({
      message: `Task ${SEED.tasks.indexingCreation} is not among the 1 most recent tasks of dataset ${SEED.datasets.draft}, or you may not see it.`,
      extensions: expect.objectContaining({ code: 'NOT_FOUND' })
    })])
  })
})

describe('credential scopes of pollers (passthrough)', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway({ AUTH_MODE: 'passthrough', POLL_INTERVAL_MS: String(INTERVAL) }) })
  afterAll(async () => { await gw.close() })

  it('runs one poller per account, each with its own token; the other account gets NOT_FOUND', async () => {
    gw.emulator.reset()
    const id = SEED.datasets.readOnly
    const acme = record<StatusEvent>(connect(gw, { Authorization: `Bearer ${visualLayerToken(DEMO_ACCOUNTS.primary)}` }), statusQuery(id, true))
    const globex = record<StatusEvent>(connect(gw, { authorization: `Bearer ${visualLayerToken(DEMO_ACCOUNTS.secondary)}` }), statusQuery(id, true))
    await acme.received(1)
    await expect(globex.done).rejects.toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'NOT_FOUND' }) })])
    const keys = new Set(gw.emulator.calls().filter((c) => c.path === `/api/v1/dataset/${id}`).map((c) => `${String(c.apiKey)} ${c.status}`))
    expect([...keys].sort()).toEqual([`${DEMO_ACCOUNTS.primary.apiKey} 200`, `${DEMO_ACCOUNTS.secondary.apiKey} 404`])
    acme.stop()
  })
})

describe.each(AUTH_MODES.filter((mode) => mode !== 'none'))('token expiry (AUTH_MODE=%s)', (mode) => {
  let gw: TestGateway
  // The pollers' time stands still: the token's expiry (on the wall clock) ends the subscription, never a poll that finds it expired first.
  beforeAll(async () => { gw = await startModeGateway(mode, { JWT_CLOCK_TOLERANCE_SEC: '0', POLL_INTERVAL_MS: String(INTERVAL) }, { liveTime: new ManualTime() }) })
  afterAll(async () => { await gw.close() })

  it('ends a subscription with UNAUTHENTICATED when the caller\'s token expires', async () => {
    const client = connect(gw, { Authorization: `Bearer ${String(freshToken(mode, { ttlSec: 2 }))}` })
    const sub = record<StatusEvent>(client, statusQuery(SEED.datasets.ready, true))
    await sub.received(1)
    await sub.done
    expect(sub.events.at(-1)).toEqual({
      errors: [expect.objectContaining({
        message: 'Your token expired, so this subscription ended: subscribe again with a fresh token.',
        extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' })
      })]
    })
    // The connection stays, but nothing more runs on the expired token: no subscription, no query.
    gw.emulator.clearCalls()
    for (const query of [statusQuery(SEED.datasets.ready, true), '{ datasets { id } }']) {
      const again = record(client, query)
      await expect(again.done).rejects.toEqual([expect.objectContaining({
        message: 'Your token has expired: reconnect with a fresh token.',
        extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' })
      })])
    }
    expect(gw.emulator.calls()).toEqual([])
  })
})

describe.each(AUTH_MODES)('shutdown (AUTH_MODE=%s)', (mode) => {
  it('app.close() with live subscriptions ends them, closes the sockets and leaves no timer or socket open', async () => {
    const count = (): Map<string, number> => process.getActiveResourcesInfo().reduce((m, r) => m.set(r, (m.get(r) ?? 0) + 1), new Map<string, number>())
    const baseline = count()
    // A long interval: a poller timer left behind would still be pending when we look.
    const gw = await startModeGateway(mode, { POLL_INTERVAL_MS: '5000' })
    gateways.push(gw)
    const client = wsClient(gw.url, connectionParams(mode))
    clients.push(client)
    const closed = nextEvent<number>('the socket to close', (listener) => client.on('closed', (event) => { listener((event as { code: number }).code) }))
    const subs = [SEED.datasets.readOnly, SEED.datasets.indexing, SEED.datasets.ready].map((id) => record<StatusEvent>(client, statusQuery(id, true)))
    await Promise.all(subs.map(async (sub) => { await sub.received(1) }))
    await gw.app.close()
    expect(await closed).toBe(1001)
    await client.dispose()
    await gw.emulator.close()
    // Nothing the gateway, its pollers or its sockets made is left: no resource kind above its count
    // before, looked at as each resource is destroyed (a closed socket lets go of its handle then).
    const left = (): Array<[string, number]> => [...count()].filter(([kind, n]) => n > (baseline.get(kind) ?? 0))
    await whenDestroyed(() => left().length === 0).catch(() => {})
    expect(left()).toEqual([])
  })
})

describe('the gateway-wide poll ceiling', () => {
  it('holds all pollers together to MAX_POLLS_PER_SECOND, each still polling', async () => {
    const time = new ManualTime()
    const gw = await startTestGateway({ POLL_INTERVAL_MS: String(INTERVAL), MAX_POLLS_PER_SECOND: '2' }, { liveTime: time })
    gateways.push(gw)
    const rounds = countTurns(gw)
    // Time moves to the next timer (a poller's interval, or the ceiling's refill) once every poll granted so far has ended.
    const step = async (): Promise<void> => {
      time.runNext()
      await pollsSettled(gw, rounds)
    }
    const client = wsClient(gw.url)
    clients.push(client)
    const ids = [SEED.datasets.ready, SEED.datasets.readySecond, SEED.datasets.readOnly, SEED.datasets.partialIndex]
    const subs = ids.map((id) => record<StatusEvent>(client, statusQuery(id, true)))
    // Two first polls at once (the bucket), the others as it refills.
    const firstEvents = { all: false }
    void Promise.all(subs.map(async (sub) => { await sub.received(1) })).then(() => { firstEvents.all = true })
    await when('the two first polls', onChannel('visual-layer:live:round'), () => rounds.count >= 2)
    while (!firstEvents.all) await step()
    gw.emulator.clearCalls()
    const started = time.now()
    const total = (): number => ids.reduce((sum, id) => sum + getsOf(gw, id), 0)
    // At most 8 polls in the first 3 s: the 9th comes after 3 s.
    while ((time.nextInMs ?? Infinity) <= started + 3000 - time.now()) await step()
    // Unbounded, 4 pollers at 250 ms would make about 48 polls in 3 s; the ceiling allows about 6.
    expect(total()).toBeLessThanOrEqual(8)
    while (total() < 9) await step()
    expect(time.now() - started).toBeGreaterThan(3000)
    for (const id of ids) expect(getsOf(gw, id)).toBeGreaterThanOrEqual(1)
    rounds.close()
  })
})

describe.each(AUTH_MODES)('writes seen live (AUTH_MODE=%s)', (mode) => {
  it('shows the source of an enrichment started by the mutation turn READ_ONLY at once, then READY again', async () => {
    // Time stands still: the READ_ONLY event can only come from the write's invalidation.
    const time = new ManualTime()
    const gw = await startModeGateway(mode, { POLL_INTERVAL_MS: '5000' }, { liveTime: time })
    gateways.push(gw)
    // The same caller subscribes and writes (passthrough: the write wakes the pollers of its scope).
    const params = connectionParams(mode)
    const client = wsClient(gw.url, params)
    clients.push(client)
    const id = SEED.datasets.ready
    const sub = record<StatusEvent>(client, statusQuery(id, true))
    await sub.received(1)
    const started = time.now()
    const res = await gw.gql(`mutation { enrichDataset(datasetId: "${id}", models: [{ type: "CAPTION_IMAGES", modelId: "vl_image_captioner_v00" }]) { enrichedDatasetId sourceDataset { status } } }`, {}, params as Record<string, string>)
    expect(res.body.errors).toBeUndefined()
    expect((res.body.data as { enrichDataset: { sourceDataset: { status: string } } }).enrichDataset.sourceDataset).toEqual({ status: 'READ_ONLY' })
    await sub.received(2)
    expect(time.now()).toBe(started)
    expect(sub.events[1]?.data?.datasetStatusChanged).toEqual({ id, status: 'READ_ONLY', progress: 100 })
    gw.emulator.advance(31_000)
    expect(await pollNow(gw, time, id)).toMatchObject({ outcome: 'changed' })
    await sub.received(3)
    expect(sub.events.map((e) => e.data?.datasetStatusChanged.status)).toEqual(['READY', 'READ_ONLY', 'READY'])
  })
})

/**
 * Resolves once `check()` holds, looked at now and as each async resource of the process is destroyed
 * (node:async_hooks). Its deadline is unref'd: it keeps no resource of its own active.
 */
async function whenDestroyed (check: () => boolean, timeoutMs = DEADLINE_MS): Promise<void> {
  if (check()) return
  await new Promise<void>((resolve, reject) => {
    const hook = createHook({ destroy: () => { if (check()) { finish(); resolve() } } })
    const timer = setTimeout(() => {
      finish()
      reject(new Error(`resources still held after ${timeoutMs} ms`))
    }, timeoutMs)
    timer.unref()
    function finish (): void {
      hook.disable()
      clearTimeout(timer)
    }
    hook.enable()
    if (check()) {
      finish()
      resolve()
    }
  })
}
