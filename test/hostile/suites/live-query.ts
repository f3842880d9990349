import { expect } from 'vitest'
import { SEED } from '../../../src/emulator/index.js'
import { canonical, tally } from '../harness/answers.js'
import { hostileCase, pollCeiling } from '../harness/case.js'
import { defineSuite } from '../harness/suite.js'
import { forgedToken, genuineToken } from '../harness/tokens.js'
import { initSocket, initSockets, operationText, subscribeCompleteChurn, type AttackSocket, type WsMessage } from '../harness/ws.js'

/*
 * Live queries (`@live`): what the door adds to the WebSocket, SSE and HTTP event-stream doors it runs on
 * is an execution shared per (document, variables, scope), watching the upstream resources it read, and
 * kept open until the client ends it. Attacks come over WebSocket (the door where one connection starts
 * the most operations), with the account's token where a live query must run: LIVE_QUERIES_PER_CALLER
 * (100) bounds what one caller holds, each socket within WS_SUBSCRIBE_BURST (100) and WS_MESSAGE_BURST (250).
 */

const READY = SEED.datasets.ready
const readyResult = canonical({ data: { dataset: { id: READY, status: 'READY' } } })
const tooMany = canonical({
  data: null,
  errors: [{
    message: 'Too many live queries: at most 100 per caller (LIVE_QUERIES_PER_CALLER). End one first, or run the query without @live.',
    extensions: { code: 'RATE_LIMITED', requestId: '<id>' }
  }]
})

/**
 * Sends `count` live queries on `socket` at once and returns each one's messages as text once every one
 * has answered: a live query that runs has sent its first result (and stays open), a refused one its
 * result and complete (a ping's pong after them says nothing more is on its way).
 */
async function liveOperations (socket: AttackSocket, count: number, payload: (i: number) => unknown): Promise<string[]> {
  for (let i = 0; i < count; i++) socket.send({ id: String(i + 1), type: 'subscribe', payload: payload(i) })
  const answered = (): number => new Set(socket.messages.filter((m) => m.type === 'next').map((m) => m.id)).size
  for (let seen = answered(); seen < count; seen = answered()) await socket.received(socket.messages.length + 1)
  socket.send({ type: 'ping' })
  for (let at = socket.messages.length; !socket.messages.slice(at - 1).some((m) => m.type === 'pong');) await socket.received(socket.messages.length + 1)
  return Array.from({ length: count }, (_, i) => operationText(socket.messages.filter((m: WsMessage) => m.id === String(i + 1))))
}

export const suite = defineSuite({
  name: 'live-query',
  cases: [
    hostileCase({
      door: 'live-query',
      attack: 'many-unique-variables',
      name: '2 sockets × 75 live queries of one dataset, each with variables never sent before (150 executions asked, 100 allowed)',
      run: async ({ url, address, account, hold }) => {
        const sockets = await initSockets(url, address, 2, () => account)
        hold(() => { for (const socket of sockets) socket.socket.terminate() })
        const query = 'query Q($id: ID!) @live { dataset(id: $id) { id status } }'
        const answers = await Promise.all(sockets.map(async (socket, s) => await liveOperations(socket, 75, (i) => ({ query, variables: { id: READY, n: `${s}:${i}`, note: 'u'.repeat(200) } }))))
        return answers.flat()
      },
      answers: (answers) => { expect(tally(answers)).toEqual({ [`next ${readyResult}`]: 100, [`next ${tooMany} | complete`]: 50 }) },
      // One GET of the dataset per execution at most (reads in flight at once are shared), and the one poller's polls.
      upstream: { atMost: 100 + pollCeiling(5) }
    }),
    hostileCase({
      door: 'live-query',
      attack: 'many-unique-documents',
      name: '2 sockets × 75 live queries, each a document never sent before (query L<n>), 100 allowed',
      guards: ['a burst of new documents is read one per turn of the event loop, callers in turn'],
      run: async ({ url, address, account, hold }) => {
        const sockets = await initSockets(url, address, 2, () => account)
        hold(() => { for (const socket of sockets) socket.socket.terminate() })
        const answers = await Promise.all(sockets.map(async (socket, s) => await liveOperations(socket, 75, (i) => ({
          query: `query L${s}x${i}($id: ID!) @live { dataset(id: $id) { id status } }`,
          variables: { id: READY }
        }))))
        return answers.flat()
      },
      answers: (answers) => { expect(tally(answers)).toEqual({ [`next ${readyResult}`]: 100, [`next ${tooMany} | complete`]: 50 }) },
      upstream: { atMost: 100 + pollCeiling(5) }
    }),
    hostileCase({
      door: 'live-query',
      attack: 'subscribe-complete-churn',
      name: 'one socket starts and completes live queries of a dataset page as fast as it can (at most 20,000 pairs)',
      run: async ({ url, address, signal, account }) => {
        const socket = await initSocket(url, address, account)
        const query = `query Page @live { dataset(id: "${READY}") { id status models { id } enrichment { id status } tasks(pageSize: 5) { total nodes { id status } } } }`
        return await subscribeCompleteChurn(socket, query, signal)
      },
      answers: ({ close }) => {
        expect(close).toEqual({ code: 1008, reason: 'Too many messages on this connection: at most 100 a second, after a burst of 250.' })
      },
      // At most the burst's 100 starts ran before the close, each an execution of four reads (those in flight at once are shared), and their pollers' polls.
      upstream: { atMost: 4 * 100 + pollCeiling(5) }
    }),
    hostileCase({
      door: 'live-query',
      attack: 'forged-tokens',
      name: '50 sockets from one address, each with a forged token never seen before, start a live query; then a genuine token from that address',
      run: async ({ url, address, hold }) => {
        const query = `query Q @live { dataset(id: "${READY}") { id status } }`
        const sockets = await initSockets(url, address, 50, () => forgedToken())
        hold(() => { for (const socket of sockets) socket.socket.terminate() })
        const forged = await Promise.all(sockets.map(async (socket) => operationText(await socket.operation('1', { query }))))
        const genuine = await initSocket(url, address, genuineToken())
        const answer = await liveOperations(genuine, 1, () => ({ query }))
        genuine.socket.close()
        return { forged, answer }
      },
      answers: ({ forged, answer }) => {
        // Refused by Visual Layer at the first execution: the live query ends there, watching nothing.
        expect(tally(forged)).toEqual({
          [`next ${canonical({
            data: null,
            errors: [{ message: 'Visual Layer refused your token: Invalid token: unknown API key in kid. Sign a fresh Visual Layer JWT and try again.', extensions: { code: 'UNAUTHENTICATED', requestId: '<id>', upstream: { status: 401 } } }]
          })} | complete`]: 50
        })
        expect(answer).toEqual([`next ${readyResult}`])
      },
      upstream: (calls) => {
        const counts = tally(calls.map((call) => `${call.method} ${call.path} ${call.status}`))
        expect(counts[`GET /api/v1/dataset/${READY} 401`]).toBe(50)
        // The genuine one's execution, and at most its poller's first poll before it left.
        expect(counts[`GET /api/v1/dataset/${READY} 200`]).toBeGreaterThanOrEqual(1)
        expect(counts[`GET /api/v1/dataset/${READY} 200`]).toBeLessThanOrEqual(2)
        expect(Object.keys(counts)).toHaveLength(2)
      }
    })
  ]
})
