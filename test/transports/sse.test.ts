import type { Client as WsClient } from 'graphql-ws'
import { NetworkError, type Client } from 'graphql-sse'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import type { TestGateway } from '../helpers/gateway.js'
import { AUTH_MODES, connectionParams, freshToken, inTokenModes, startModeGateway } from '../helpers/modes.js'
import { bearer, recordSse, sseClient } from '../helpers/sse.js'
import { record, until, wsClient } from '../helpers/ws.js'

/**
 * Subscriptions over SSE (/graphql/stream, graphql-sse protocol) with the real graphql-sse client,
 * in both its modes and in every auth mode, with tokens that expire: the same events, limits,
 * errors and token expiry as over WebSocket, and the stream's poller stops once its client leaves.
 *
 * "No poll after one interval" is measured as in test/live/lifetime.test.ts: by a WebSocket
 * subscriber (the clock) on another dataset, polled at the same interval.
 */

const INTERVAL = 250
const statusQuery = (id: string, follow = false): string => `subscription { datasetStatusChanged(datasetId: "${id}", follow: ${String(follow)}) { id status progress } }`
type StatusEvent = { datasetStatusChanged: { id: string, status: string, progress: number } }
const READ_ONLY = { data: { datasetStatusChanged: { id: SEED.datasets.readOnly, status: 'READ_ONLY', progress: 100 } } }
const ERROR = { data: { datasetStatusChanged: { id: SEED.datasets.error, status: 'ERROR', progress: 37 } } }

describe.each(AUTH_MODES)('SSE subscriptions (AUTH_MODE=%s)', (mode) => {
  const watched = SEED.datasets.readOnly
  const clockDataset = SEED.datasets.readySecond
  let gw: TestGateway
  let clock: WsClient
  const clients: Array<Client<boolean>> = []
  const connect = (singleConnection: boolean, token = freshToken(mode)): Client<boolean> => {
    const client = sseClient(gw.url, singleConnection, bearer(token))
    clients.push(client)
    return client
  }
  const getsOf = (id: string): number => gw.emulator.calls().filter((c) => c.method === 'GET' && c.path === `/api/v1/dataset/${id}`).length
  const clockTicks = async (n: number): Promise<void> => {
    const target = getsOf(clockDataset) + n
    await until(() => getsOf(clockDataset) >= target)
  }

  beforeAll(async () => {
    gw = await startModeGateway(mode, { POLL_INTERVAL_MS: String(INTERVAL), SSE_MAX_STREAMS_PER_CALLER: '50' })
    clock = wsClient(gw.url, connectionParams(mode, { ttlSec: 3600 }))
    const ticking = record(clock, statusQuery(clockDataset, true))
    await until(() => ticking.events.length === 1)
  })
  afterEach(() => {
    for (const client of clients.splice(0)) client.dispose()
  })
  afterAll(async () => {
    await clock.dispose()
    await gw.close()
  })

  describe.each([false, true])('singleConnection: %s', (singleConnection) => {
    it('gives the dataset, then completes once it has settled', async () => {
      const sub = recordSse<StatusEvent>(connect(singleConnection), statusQuery(SEED.datasets.error))
      await sub.done
      expect(sub.events).toEqual([ERROR])
    })

    it('refuses a document over the limits with QUERY_REJECTED and no upstream call', async () => {
      const before = gw.emulator.calls().filter((c) => c.path !== `/api/v1/dataset/${clockDataset}`).length
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
      expect(gw.emulator.calls().filter((c) => c.path !== `/api/v1/dataset/${clockDataset}`).length).toBe(before)
    })

    it('refuses a query with QUERY_REJECTED: queries and mutations go to POST /graphql', async () => {
      const sub = recordSse(connect(singleConnection), `{ dataset(id: "${watched}") { id } }`)
      await sub.done
      expect(sub.events).toEqual([{
        data: null,
        errors: [{
          message: '/graphql/stream serves subscriptions only (name the one to run with operationName when the document holds several). Send queries and mutations to POST /graphql.',
          extensions: { code: 'QUERY_REJECTED', requestId: expect.any(String) }
        }]
      }])
    })

    it('the client leaving stops the poller within one interval', async () => {
      const sub = recordSse<StatusEvent>(connect(singleConnection), statusQuery(watched, true))
      await until(() => sub.events.length === 1)
      const before = getsOf(watched)
      await until(() => getsOf(watched) >= before + 2)
      sub.stop()
      await clockTicks(2)
      const settled = getsOf(watched)
      await clockTicks(4)
      expect(getsOf(watched)).toBe(settled)
      expect(sub.events).toEqual([READ_ONLY])
    })

    // AUTH_MODE=none has no caller token: nothing to expire, nothing to refuse. These exist in the token modes only.
    const withTokens = inTokenModes(mode)
    withTokens('the token expires: the stream ends with UNAUTHENTICATED and its poller stops', async () => {
      const sub = recordSse<StatusEvent>(connect(singleConnection, freshToken(mode, { ttlSec: 2 })), statusQuery(watched, true))
      await sub.done
      expect(sub.events).toEqual([READ_ONLY, {
        errors: [{
          message: 'Your token expired, so this subscription ended: subscribe again with a fresh token.',
          extensions: { code: 'UNAUTHENTICATED', requestId: expect.any(String) }
        }]
      }])
      await clockTicks(2)
      const settled = getsOf(watched)
      await clockTicks(4)
      expect(getsOf(watched)).toBe(settled)
    })

    withTokens.each([
      ['no Authorization header', null],
      ['an expired token', freshToken(mode, { ttlSec: -60 })]
    ])('%s: 401, no upstream call', async (_name, token) => {
      const before = gw.emulator.calls().filter((c) => c.path !== `/api/v1/dataset/${clockDataset}`).length
      const sub = recordSse(connect(singleConnection, token), statusQuery(watched))
      const err = await sub.done.then(() => null, (e: unknown) => e)
      expect(err).toBeInstanceOf(NetworkError)
      // The body (UNAUTHENTICATED, as over HTTP) is read in the raw tests below: the client aborts it.
      expect((err as NetworkError).response?.status).toBe(401)
      expect(gw.emulator.calls().filter((c) => c.path !== `/api/v1/dataset/${clockDataset}`).length).toBe(before)
    })
  })
})
