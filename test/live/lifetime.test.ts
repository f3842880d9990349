import type { Client } from 'graphql-ws'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_ACCOUNTS, SEED } from '../../src/emulator/index.js'
import type { TestGateway } from '../helpers/gateway.js'
import { AUTH_MODES, connectionParams, inTokenModes, startModeGateway } from '../helpers/modes.js'
import { getsOf, grows } from '../helpers/polls.js'
import { rawConnection, record, until, wsClient, type Recorded } from '../helpers/ws.js'

/**
 * How long a subscription lives, in each auth mode, with tokens that expire: whichever way its
 * client leaves (complete, close, TCP reset, during back-off) or its token ends, its poller stops
 * within one interval and its connection stops counting against its caller at once.
 *
 * "No poll after one interval" is measured by another poller at the same interval on another
 * dataset (the clock): after its client leaves, the left poller may finish the poll under way, and
 * then, while the clock polls several more times, polls no more.
 */

const INTERVAL = 250
const statusQuery = (id: string): string => `subscription { datasetStatusChanged(datasetId: "${id}", follow: true) { id status } }`
type StatusEvent = { datasetStatusChanged: { id: string, status: string } }
const READ_ONLY = { data: { datasetStatusChanged: { id: SEED.datasets.readOnly, status: 'READ_ONLY' } } }

describe.each(AUTH_MODES)('subscription lifetime (AUTH_MODE=%s)', (mode) => {
  const watched = SEED.datasets.readOnly
  const clockDataset = SEED.datasets.readySecond
  let gw: TestGateway
  let clock: Client
  const clients: Client[] = []
  const connect = (params = connectionParams(mode)): Client => {
    const client = wsClient(gw.url, params)
    clients.push(client)
    return client
  }
  const polls = (id: string) => (): number => getsOf(gw, id)
  /** Resolves once the clock poller has polled `n` more times: at least (n - 1) intervals passed. */
  const clockTicks = async (n: number): Promise<void> => { await grows(polls(clockDataset), n) }
  /** The watched dataset's poller polls now (a quiet dataset, polled on and on); `leave` ends it. */
  const expectNoPollAfter = async (leave: () => void | Promise<void>): Promise<void> => {
    await grows(polls(watched), 2)
    await leave()
    await clockTicks(2)
    const settled = getsOf(gw, watched)
    await clockTicks(4)
    expect(getsOf(gw, watched)).toBe(settled)
  }

  beforeAll(async () => {
    gw = await startModeGateway(mode, { POLL_INTERVAL_MS: String(INTERVAL), WS_MAX_CONNECTIONS_PER_CALLER: '20', JWT_MAX_AGE_SEC: String(31 * 86_400) })
    // The clock: a long-lived subscriber on another dataset, polled at the same interval.
    clock = wsClient(gw.url, connectionParams(mode, { ttlSec: 3600 }))
    const ticking = record(clock, statusQuery(clockDataset))
    await until(() => ticking.events.length === 1)
  })
  afterEach(async () => {
    await Promise.all(clients.splice(0).map(async (client) => { await client.dispose() }))
    gw.emulator.clearFaults()
  })
  afterAll(async () => {
    await clock.dispose()
    await gw.close()
  })

  it('complete: the poller stops within one interval', async () => {
    const sub = record<StatusEvent>(connect(), statusQuery(watched))
    await until(() => sub.events.length === 1)
    // The clock's poller and the watched dataset's.
    expect(gw.app.live.size).toBe(2)
    await expectNoPollAfter(() => { sub.stop() })
    expect(sub.events).toEqual([READ_ONLY])
    expect(gw.app.live.size).toBe(1)
  })

  it('the socket closed: the poller stops within one interval', async () => {
    const client = connect()
    const sub = record<StatusEvent>(client, statusQuery(watched))
    await until(() => sub.events.length === 1)
    await expectNoPollAfter(async () => { await client.dispose() })
  })

  it('the TCP connection reset: the poller stops within one interval', async () => {
    const raw = await rawConnection(gw.url, connectionParams(mode))
    raw.subscribe('1', statusQuery(watched))
    await until(() => raw.events.get('1')?.length === 1)
    await expectNoPollAfter(() => { raw.reset() })
    expect(raw.events.get('1')).toEqual([READ_ONLY])
  })

  it('leaving while the poller backs off from failures: no poll after', async () => {
    gw.emulator.injectFault({ path: `/api/v1/dataset/${watched}`, status: 503, body: { detail: 'maintenance' }, times: 1000 })
    const sub = record<StatusEvent>(connect(), statusQuery(watched))
    // Two failed polls: the poller now sleeps 4 intervals before its third.
    await expectNoPollAfter(() => { sub.stop() })
    expect(sub.events).toEqual([])
  })

  // AUTH_MODE=none has no caller token, so nothing can expire: these two run in the token modes only.
  const withTokens = inTokenModes(mode)
  withTokens('the token expires: the subscription ends UNAUTHENTICATED and its poller stops', async () => {
    const sub = record<StatusEvent>(connect(connectionParams(mode, { ttlSec: 2 })), statusQuery(watched))
    await until(() => sub.events.length === 1)
    await sub.done
    expect(sub.events).toEqual([READ_ONLY, {
      errors: [{
        message: 'Your token expired, so this subscription ended: subscribe again with a fresh token.',
        extensions: { code: 'UNAUTHENTICATED', requestId: expect.any(String) }
      }]
    }])
    await clockTicks(2)
    const settled = getsOf(gw, watched)
    await clockTicks(4)
    expect(getsOf(gw, watched)).toBe(settled)
  })

  withTokens('a token valid for 30 days (longer than a timer can wait) keeps its subscription', async () => {
    const sub = record<StatusEvent>(connect(connectionParams(mode, { ttlSec: 30 * 24 * 3600 })), statusQuery(watched))
    await until(() => sub.events.length === 1)
    let ended = false
    void sub.done.finally(() => { ended = true })
    await clockTicks(3)
    expect([ended, sub.events]).toEqual([false, [READ_ONLY]])
    sub.stop()
  })

  it('25 connections opened, subscribed and closed one after another are all accepted (at most 20 per caller)', async () => {
    const outcomes: string[] = []
    for (let i = 0; i < 25; i++) {
      const client = wsClient(gw.url, connectionParams(mode))
      let closed = false
      client.on('closed', () => { closed = true })
      const sub = record<StatusEvent>(client, statusQuery(watched))
      outcomes.push(await Promise.race([
        until(() => sub.events.length === 1).then(() => 'event'),
        sub.done.then(() => 'completed', (err: { code?: number, reason?: string }) => `closed ${String(err.code)} ${String(err.reason)}`)
      ]))
      await client.dispose()
      await until(() => closed)
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
  const polls = (id: string) => (): number => getsOf(gw, id)

  beforeAll(async () => { gw = await startModeGateway('passthrough', { POLL_INTERVAL_MS: String(INTERVAL) }) })
  afterAll(async () => {
    await Promise.all(clients.map(async (client) => { await client.dispose() }))
    await gw.close()
  })

  it('a fresh token, the same token once accepted and another fresh token of the account share one poller; a forged one does not', async () => {
    const clock = record<StatusEvent>(connect(connectionParams('passthrough', { ttlSec: 3600 })), statusQuery(clockDataset))
    await until(() => clock.events.length === 1)
    // A fresh token: polled under a scope of its own until Visual Layer accepts it.
    const first = connectionParams('passthrough')
    const subs: Array<Recorded<StatusEvent>> = [record<StatusEvent>(connect(first), statusQuery(watched))]
    await until(() => subs[0]?.events.length === 1)
    // The same token, now accepted: its account's scope.
    subs.push(record<StatusEvent>(connect(first), statusQuery(watched)))
    await until(() => subs[1]?.events.length === 1)
    // Another fresh token of the same account: its own poller at first, merged once it is accepted.
    subs.push(record<StatusEvent>(connect(connectionParams('passthrough')), statusQuery(watched)))
    await until(() => subs[2]?.events.length === 1)
    // A token with the account's key but signed with another secret is never answered from the others' poller.
    const forged = record<StatusEvent>(connect(connectionParams('passthrough', { account: { apiKey: DEMO_ACCOUNTS.primary.apiKey, apiSecret: 'not-the-secret' } })), statusQuery(watched))
    await expect(forged.done).rejects.toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }) })])
    expect(forged.events).toEqual([])

    // Let the merge settle (at most one poll of the other poller under way), then count.
    await grows(polls(clockDataset), 2)
    const [clockBefore, watchedBefore] = [getsOf(gw, clockDataset), getsOf(gw, watched)]
    await grows(polls(clockDataset), 8)
    const [clockPolls, watchedPolls] = [getsOf(gw, clockDataset) - clockBefore, getsOf(gw, watched) - watchedBefore]
    // One poller polls the watched dataset as often as the clock's (±1 for where each is in its interval).
    expect(Math.abs(watchedPolls - clockPolls)).toBeLessThanOrEqual(1)
    for (const sub of subs) expect(sub.events).toEqual([READ_ONLY])
  })
})
