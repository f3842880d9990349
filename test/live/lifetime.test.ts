import type { Client } from 'graphql-ws'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_ACCOUNTS, SEED } from '../../src/emulator/index.js'
import type { TestGateway } from '../helpers/gateway.js'
import { AUTH_MODES, connectionParams, inTokenModes, startModeGateway } from '../helpers/modes.js'
import { ManualTime } from '../helpers/manual-time.js'
import { allPollersStopped, countTurns, getsOf, nextRound, pollerStopped, pollNow, pollsSettled } from '../helpers/polls.js'
import { nextEvent, when } from '../helpers/wait.js'
import { rawConnection, record, wsClient, type Recorded } from '../helpers/ws.js'

/**
 * How long a subscription lives, in each auth mode, with tokens that expire: whichever way its
 * client leaves (complete, close, TCP reset, during back-off) or its token ends, its poller stops
 * within one interval and its connection stops counting against its caller at once.
 *
 * The pollers run on time the test moves (ManualTime): "stops within one interval" is a stop with
 * no time passed since the client left, holding no timer, and no poll however far time then moves.
 */

const INTERVAL = 250
const statusQuery = (id: string): string => `subscription { datasetStatusChanged(datasetId: "${id}", follow: true) { id status } }`
type StatusEvent = { datasetStatusChanged: { id: string, status: string } }
const READ_ONLY = { data: { datasetStatusChanged: { id: SEED.datasets.readOnly, status: 'READ_ONLY' } } }

describe.each(AUTH_MODES)('subscription lifetime (AUTH_MODE=%s)', (mode) => {
  const watched = SEED.datasets.readOnly
  let gw: TestGateway
  const time = new ManualTime()
  const clients: Client[] = []
  const connect = (params = connectionParams(mode)): Client => {
    const client = wsClient(gw.url, params)
    clients.push(client)
    return client
  }
  /** The stop, once no time has passed since `leave`: the poller holds no timer, and polls no more in 6 intervals. */
  const expectStopped = async (stopped: Promise<void>, leftAt: number): Promise<void> => {
    await stopped
    expect(time.now()).toBe(leftAt)
    expect(time.pending).toBe(0)
    const settled = getsOf(gw, watched)
    time.advance(6 * INTERVAL * 1.1)
    expect(getsOf(gw, watched)).toBe(settled)
  }
  /** The watched dataset's poller polls now, twice (a quiet dataset, polled on and on); `leave` ends it. */
  const expectNoPollAfter = async (leave: () => void | Promise<void>, polls = 2): Promise<void> => {
    for (let i = 0; i < polls; i++) await pollNow(gw, time, watched)
    const stopped = pollerStopped(gw, watched)
    const leftAt = time.now()
    await leave()
    await expectStopped(stopped, leftAt)
  }

  beforeAll(async () => {
    gw = await startModeGateway(mode, { POLL_INTERVAL_MS: String(INTERVAL), WS_MAX_CONNECTIONS_PER_CALLER: '20', JWT_MAX_AGE_SEC: String(31 * 86_400) }, { liveTime: time })
  })
  afterEach(async () => {
    await Promise.all(clients.splice(0).map(async (client) => { await client.dispose() }))
    gw.emulator.clearFaults()
    await allPollersStopped(gw)
  })
  afterAll(async () => {
    await gw.close()
  })

  it('complete: the poller stops within one interval', async () => {
    const sub = record<StatusEvent>(connect(), statusQuery(watched))
    await sub.received(1)
    // The watched dataset's poller.
    expect(gw.app.live.size).toBe(1)
    await expectNoPollAfter(() => { sub.stop() })
    expect(sub.events).toEqual([READ_ONLY])
    expect(gw.app.live.size).toBe(0)
  })

  it('the socket closed: the poller stops within one interval', async () => {
    const client = connect()
    const sub = record<StatusEvent>(client, statusQuery(watched))
    await sub.received(1)
    await expectNoPollAfter(async () => { await client.dispose() })
  })

  it('the TCP connection reset: the poller stops within one interval', async () => {
    const raw = await rawConnection(gw.url, connectionParams(mode))
    raw.subscribe('1', statusQuery(watched))
    await when('the first event on the raw socket', (listener) => {
      raw.socket.on('message', listener)
      return () => { raw.socket.off('message', listener) }
    }, () => raw.events.get('1')?.length === 1)
    await expectNoPollAfter(() => { raw.reset() })
    expect(raw.events.get('1')).toEqual([READ_ONLY])
  })

  it('leaving while the poller backs off from failures: no poll after', async () => {
    gw.emulator.injectFault({ path: `/api/v1/dataset/${watched}`, status: 503, body: { detail: 'maintenance' }, times: 1000 })
    const firstPoll = nextRound(gw, watched)
    const client = connect()
    const sub = record<StatusEvent>(client, statusQuery(watched))
    expect(await firstPoll).toMatchObject({ outcome: 'error' })
    // Two failed polls: the poller now sleeps 4 intervals before its third.
    await expectNoPollAfter(() => { sub.stop() }, 1)
    await record(client, '{ __typename }').done
    expect(sub.events).toEqual([])
  })

  // AUTH_MODE=none has no caller token, so nothing can expire: these two run in the token modes only.
  const withTokens = inTokenModes(mode)
  withTokens('the token expires: the subscription ends UNAUTHENTICATED and its poller stops', async () => {
    const sub = record<StatusEvent>(connect(connectionParams(mode, { ttlSec: 2 })), statusQuery(watched))
    await sub.received(1)
    const stopped = pollerStopped(gw, watched)
    const leftAt = time.now()
    await sub.done
    expect(sub.events).toEqual([READ_ONLY, {
      errors: [{
        message: 'Your token expired, so this subscription ended: subscribe again with a fresh token.',
        extensions: { code: 'UNAUTHENTICATED', requestId: expect.any(String) }
      }]
    }])
    await expectStopped(stopped, leftAt)
  })

  withTokens('a token valid for 30 days (longer than a timer can wait) keeps its subscription', async () => {
    const client = connect(connectionParams(mode, { ttlSec: 30 * 24 * 3600 }))
    const sub = record<StatusEvent>(client, statusQuery(watched))
    await sub.received(1)
    let ended = false
    void sub.done.finally(() => { ended = true })
    for (let i = 0; i < 3; i++) await pollNow(gw, time, watched)
    await record(client, '{ __typename }').done
    expect([ended, sub.events]).toEqual([false, [READ_ONLY]])
    sub.stop()
  })

  it('25 connections opened, subscribed and closed one after another are all accepted (at most 20 per caller)', async () => {
    const outcomes: string[] = []
    for (let i = 0; i < 25; i++) {
      const client = wsClient(gw.url, connectionParams(mode))
      const closed = nextEvent('the socket to close', (listener) => client.on('closed', listener))
      const sub = record<StatusEvent>(client, statusQuery(watched))
      outcomes.push(await Promise.race([
        sub.received(1).then(() => 'event', () => 'no event'),
        sub.done.then(() => 'completed', (err: { code?: number, reason?: string }) => `closed ${String(err.code)} ${String(err.reason)}`)
      ]))
      await client.dispose()
      await closed
      // A second between connections, as the poll ceiling counts: each new poller's first poll takes a turn of its 20 a second.
      time.advance(1000)
    }
    expect(outcomes).toEqual(Array.from({ length: 25 }, () => 'event'))
  })
})

describe('passthrough: one poller per resource once a token is proven', () => {
  const watched = SEED.datasets.readOnly
  const clockDataset = SEED.datasets.readySecond
  let gw: TestGateway
  const clients: Client[] = []
  const connect = (params: Record<string, unknown>): Client => {
    const client = wsClient(gw.url, params)
    clients.push(client)
    return client
  }
  const time = new ManualTime()
  /** Polls of the clock's dataset so far. */
  const ticks = (): number => getsOf(gw, clockDataset)

  // The clock's dataset is settled: adaptive polling is off here, so that it keeps the fast interval the watched one (READ_ONLY, in motion) has.
  beforeAll(async () => { gw = await startModeGateway('passthrough', { POLL_INTERVAL_MS: String(INTERVAL), POLL_MAX_INTERVAL_MS: String(INTERVAL) }, { liveTime: time }) })
  afterAll(async () => {
    await Promise.all(clients.map(async (client) => { await client.dispose() }))
    await gw.close()
  })

  it('a fresh token, the same token once accepted and another fresh token of the account share one poller; a forged one does not', async () => {
    const turns = countTurns(gw)
    const clock = record<StatusEvent>(connect(connectionParams('passthrough', { ttlSec: 3600 })), statusQuery(clockDataset))
    await clock.received(1)
    // A fresh token: polled under a scope of its own until Visual Layer accepts it.
    const first = connectionParams('passthrough')
    const subs: Array<Recorded<StatusEvent>> = [record<StatusEvent>(connect(first), statusQuery(watched))]
    await subs[0]?.received(1)
    // The same token, now accepted: its account's scope.
    subs.push(record<StatusEvent>(connect(first), statusQuery(watched)))
    await subs[1]?.received(1)
    // Another fresh token of the same account: its own poller at first, merged once it is accepted.
    subs.push(record<StatusEvent>(connect(connectionParams('passthrough')), statusQuery(watched)))
    await subs[2]?.received(1)
    // A token with the account's key but signed with another secret is never answered from the others' poller.
    const forged = record<StatusEvent>(connect(connectionParams('passthrough', { account: { apiKey: DEMO_ACCOUNTS.primary.apiKey, apiSecret: 'not-the-secret' } })), statusQuery(watched))
    await expect(forged.done).rejects.toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }) })])
    expect(forged.events).toEqual([])

    // Time moves to the next timer once every poll granted so far has ended. Let the merge settle
    // (at most one poll of the other poller under way), then count over 8 polls of the clock.
    const step = async (): Promise<void> => {
      time.runNext()
      await pollsSettled(gw, turns)
    }
    await pollsSettled(gw, turns)
    for (const target = ticks() + 2; ticks() < target;) await step()
    const [clockBefore, watchedBefore] = [getsOf(gw, clockDataset), getsOf(gw, watched)]
    for (const target = ticks() + 8; ticks() < target;) await step()
    const [clockPolls, watchedPolls] = [getsOf(gw, clockDataset) - clockBefore, getsOf(gw, watched) - watchedBefore]
    // One poller polls the watched dataset as often as the clock's (±1 for where each is in its interval).
    expect(Math.abs(watchedPolls - clockPolls)).toBeLessThanOrEqual(1)
    for (const sub of subs) expect(sub.events).toEqual([READ_ONLY])
    turns.close()
  })
})
