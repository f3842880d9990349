import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import type WebSocket from 'ws'
import { SEED } from '../../src/emulator/index.js'
import { describeWithRedis, keyEvents, redisRoundTrip, startCluster, type TestCluster } from '../helpers/cluster.js'
import type { TestGateway } from '../helpers/gateway.js'
import { connectionEnd } from '../helpers/wait.js'
import { rawConnection, type RawConnection } from '../helpers/ws.js'

/**
 * Connections per caller counted across the replicas: with WS_MAX_CONNECTIONS_PER_CALLER=2, a caller
 * holding one socket on each of two replicas is refused on the third; a closed socket frees its slot
 * for any replica; and a replica cut off from Redis without releasing anything (its link to Redis
 * dropped, as when it dies) stops counting once its entries expire (three REDIS_HEARTBEAT_MS), so the
 * others accept the caller again. SSE streams count the same way, in their own pool.
 */

interface Closed { code: number, reason: string }
const TOO_MANY = { code: 1008, reason: 'Too many WebSocket connections: at most 2 per caller. Close one, or share one for many subscriptions.' }

async function initialised (gw: TestGateway, address: string): Promise<RawConnection | Closed> {
  try {
    return await rawConnection(gw.url, {}, { 'x-forwarded-for': address })
  } catch (err) {
    const match = /^closed (\d+) (.*)$/s.exec((err as Error).message)
    if (match === null) throw err
    return { code: Number(match[1]), reason: match[2] ?? '' }
  }
}
const isOpen = (value: RawConnection | Closed): value is RawConnection => 'socket' in value

describeWithRedis('connections per caller across three replicas', () => {
  let cluster: TestCluster
  let replicas: TestGateway[]
  const open: WebSocket[] = []
  beforeAll(async () => {
    cluster = await startCluster({
      replicas: 3,
      env: { TRUST_PROXY: 'loopback', WS_MAX_CONNECTIONS_PER_CALLER: '2', SSE_MAX_STREAMS_PER_CALLER: '1', REDIS_HEARTBEAT_MS: '200' }
    })
    replicas = cluster.replicas
  })
  afterEach(() => { for (const socket of open.splice(0)) socket.terminate() })
  afterAll(async () => { await cluster.close() })

  const replica = (i: number): TestGateway => replicas[i] as TestGateway
  const connect = async (i: number, address: string): Promise<RawConnection | Closed> => {
    const result = await initialised(replica(i), address)
    if (isOpen(result)) open.push(result.socket)
    return result
  }
  const slotKeys = async (pool: string): Promise<string[]> => await cluster.redis.keys(`${cluster.prefix}slots:${pool}:r:*`)

  it('counts a caller\'s sockets over every replica, frees a closed one\'s slot, and a cut-off replica\'s after expiry', async () => {
    const first = await connect(0, '10.1.0.1')
    const second = await connect(1, '10.1.0.1')
    expect([isOpen(first), isOpen(second)]).toEqual([true, true])
    expect(await connect(2, '10.1.0.1')).toEqual(TOO_MANY)
    // Another caller has its own ceiling.
    expect(isOpen(await connect(2, '10.1.0.2'))).toBe(true)

    // Closing the socket on replica 0 frees a slot for replica 2.
    if (!isOpen(first)) throw new Error('unreachable')
    const closed = connectionEnd(replica(0).app.server, 'websocket')
    first.socket.close()
    // Replica 0 saw the close and released the slot on its Redis connection before anything it sends next.
    await closed
    await redisRoundTrip(replica(0))
    expect(isOpen(await connect(2, '10.1.0.1'))).toBe(true)
    expect(await connect(0, '10.1.0.1')).toEqual(TOO_MANY)

    // Replica 1 loses Redis without releasing its socket's slot: its hash is kept alive by its heartbeat until then.
    const before = await slotKeys('ws')
    expect(before.length).toBe(2)
    // Redis expires the hash of the replica that stopped renewing it (three beats after its last).
    const { ready, happened: expired } = keyEvents(cluster, 'expired', (key) => before.includes(`${cluster.prefix}${key}`))
    await ready
    replica(1).app.redis?.commands.disconnect()
    await expired
    expect((await slotKeys('ws')).length).toBe(1)
    // Its socket is still open (the replica lives for its clients), but the cluster no longer counts it.
    expect(isOpen(second) && second.socket.readyState === second.socket.OPEN).toBe(true)
    expect(isOpen(await connect(0, '10.1.0.1'))).toBe(true)
    expect(await connect(0, '10.1.0.1')).toEqual(TOO_MANY)
  })

  it('counts SSE streams of a caller over the replicas too, in their own pool; a closed one frees its place', async () => {
    const stream = async (i: number, signal: AbortSignal): Promise<Response> => await fetch(`${replica(i).url}/graphql/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-forwarded-for': '10.1.0.9' },
      body: JSON.stringify({ query: `subscription { datasetStatusChanged(datasetId: "${SEED.datasets.readOnly}", follow: true) { status } }` }),
      signal
    })
    const held = new AbortController()
    expect((await stream(0, held.signal)).status).toBe(200)
    const refusedController = new AbortController()
    const refused = await stream(2, refusedController.signal)
    if (refused.status !== 429) refusedController.abort()
    expect([refused.status, await refused.json()]).toEqual([429, {
      data: null,
      errors: [{
        message: 'Too many SSE streams: at most 1 per caller. Close one, or run many subscriptions on one stream (single-connection mode).',
        extensions: { code: 'RATE_LIMITED', requestId: expect.any(String) as unknown }
      }]
    }])
    const ended = connectionEnd(replica(0).app.server, 'sse')
    held.abort()
    await ended
    await redisRoundTrip(replica(0))
    const again = new AbortController()
    expect((await stream(2, again.signal)).status).toBe(200)
    again.abort()
  })
})
