import { NetworkError, type Client } from 'graphql-sse'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import type { TestGateway } from '../helpers/gateway.js'
import { AUTH_MODES, freshToken, inTokenModes, startModeGateway } from '../helpers/modes.js'
import { ManualTime } from '../helpers/manual-time.js'
import { allPollersStopped, getsOf, pollerStopped, pollNow } from '../helpers/polls.js'
import { bearer, recordSse, sseClient } from '../helpers/sse.js'

/**
 * Subscriptions over SSE (/graphql/stream, graphql-sse protocol) with the real graphql-sse client,
 * in both its modes and in every auth mode, with tokens that expire: the same events, limits,
 * errors and token expiry as over WebSocket, and the stream's poller stops once its client leaves.
 *
 * "No poll after one interval" is proven as in test/live/lifetime.test.ts, on time the test moves
 * (ManualTime): the poller stops with no time passed, holding no timer.
 */

const INTERVAL = 250
const statusQuery = (id: string, follow = false): string => `subscription { datasetStatusChanged(datasetId: "${id}", follow: ${String(follow)}) { id status progress } }`
type StatusEvent = { datasetStatusChanged: { id: string, status: string, progress: number } }
const READ_ONLY = { data: { datasetStatusChanged: { id: SEED.datasets.readOnly, status: 'READ_ONLY', progress: 100 } } }
const ERROR = { data: { datasetStatusChanged: { id: SEED.datasets.error, status: 'ERROR', progress: 37 } } }

describe.each(AUTH_MODES)('SSE subscriptions (AUTH_MODE=%s)', (mode) => {
  const watched = SEED.datasets.readOnly
  let gw: TestGateway
  const time = new ManualTime()
  const clients: Array<Client<boolean>> = []
  const connect = (singleConnection: boolean, token = freshToken(mode)): Client<boolean> => {
    const client = sseClient(gw.url, singleConnection, bearer(token))
    clients.push(client)
    return client
  }
  /** The stop, with no time passed since `leftAt`: the poller holds no timer, and polls no more in 6 intervals. */
  const expectStopped = async (stopped: Promise<void>, leftAt: number): Promise<void> => {
    await stopped
    expect(time.now()).toBe(leftAt)
    expect(time.pending).toBe(0)
    const settled = getsOf(gw, watched)
    time.advance(6 * INTERVAL * 1.1)
    expect(getsOf(gw, watched)).toBe(settled)
  }

  beforeAll(async () => {
    gw = await startModeGateway(mode, { POLL_INTERVAL_MS: String(INTERVAL), SSE_MAX_STREAMS_PER_CALLER: '50' }, { liveTime: time })
  })
  afterEach(async () => {
    for (const client of clients.splice(0)) client.dispose()
    await allPollersStopped(gw)
  })
  afterAll(async () => {
    await gw.close()
  })

  describe.each([false, true])('singleConnection: %s', (singleConnection) => {
    it('gives the dataset, then completes once it has settled', async () => {
      const sub = recordSse<StatusEvent>(connect(singleConnection), statusQuery(SEED.datasets.error))
      await sub.done
      expect(sub.events).toEqual([ERROR])
    })

    it('refuses a document over the limits with QUERY_REJECTED and no upstream call', async () => {
      const before = gw.emulator.calls().length
      const query = `subscription { datasetStatusChanged(datasetId: "${watched}") { id ${'status '.repeat(3000)} } }`
      const sub = recordSse<StatusEvent>(connect(singleConnection), query)
      await sub.done
      expect(sub.events).toEqual([{
        data: null,
        errors: [{
          message: 'The document has more than 3000 tokens, the most this gateway accepts. Split it into several requests, or pass long lists as variables.',
          extensions: { code: 'QUERY_REJECTED', requestId: expect.any(String) }
        }]
      }])
      expect(gw.emulator.calls().length).toBe(before)
    })

    it('refuses a query with QUERY_REJECTED: queries and mutations go to POST /graphql', async () => {
      const sub = recordSse(connect(singleConnection), `{ dataset(id: "${watched}") { id } }`)
      await sub.done
      expect(sub.events).toEqual([{
        data: null,
        errors: [{
          message: '/graphql/stream serves subscriptions and live queries (@live) only (name the one to run with operationName when the document holds several). ' +
            'Send queries and mutations to POST /graphql.',
          extensions: { code: 'QUERY_REJECTED', requestId: expect.any(String) }
        }]
      }])
    })

    it('the client leaving stops the poller within one interval', async () => {
      const sub = recordSse<StatusEvent>(connect(singleConnection), statusQuery(watched, true))
      await sub.received(1)
      const before = getsOf(gw, watched)
      for (let i = 0; i < 2; i++) await pollNow(gw, time, watched)
      expect(getsOf(gw, watched)).toBe(before + 2)
      const stopped = pollerStopped(gw, watched)
      const leftAt = time.now()
      sub.stop()
      await expectStopped(stopped, leftAt)
      expect(sub.events).toEqual([READ_ONLY])
    })

    // AUTH_MODE=none has no caller token: nothing to expire, nothing to refuse. These exist in the token modes only.
    const withTokens = inTokenModes(mode)
    withTokens('the token expires: the stream ends with UNAUTHENTICATED and its poller stops', async () => {
      const stopped = pollerStopped(gw, watched)
      const sub = recordSse<StatusEvent>(connect(singleConnection, freshToken(mode, { ttlSec: 2 })), statusQuery(watched, true))
      await sub.done
      expect(sub.events).toEqual([READ_ONLY, {
        errors: [{
          message: 'Your token expired, so this subscription ended: subscribe again with a fresh token.',
          extensions: { code: 'UNAUTHENTICATED', requestId: expect.any(String) }
        }]
      }])
      await expectStopped(stopped, time.now())
    })

    withTokens.each([
      ['no Authorization header', null],
      ['an expired token', freshToken(mode, { ttlSec: -60 })]
    ])('%s: 401, no upstream call', async (_name, token) => {
      const before = gw.emulator.calls().length
      const sub = recordSse(connect(singleConnection, token), statusQuery(watched))
      const err = await sub.done.then(() => null, (e: unknown) => e)
      expect(err).toBeInstanceOf(NetworkError)
      // The body (UNAUTHENTICATED, as over HTTP) is read in the raw tests below: the client aborts it.
      expect((err as NetworkError).response?.status).toBe(401)
      expect(gw.emulator.calls().length).toBe(before)
    })
  })
})
