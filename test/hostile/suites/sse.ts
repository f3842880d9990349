import { setTimeout as sleep } from 'node:timers/promises'
import { expect } from 'vitest'
import { DEMO_ACCOUNTS, SEED } from '../../../src/emulator/index.js'
import { BAD_ID, BAD_ID_ERRORS, BAD_ID_SUBSCRIPTION, canonical, errorBody, HEADERS_TOO_LARGE, rawAnswer, statusAndBody, tally } from '../harness/answers.js'
import { HOLD_UNREAD_MS, hostileCase, pollCeiling } from '../harness/case.js'
import { inWaves, oversized, rawSocket, requestHead, within, type RawSocket } from '../harness/http.js'
import { defineSuite } from '../harness/suite.js'
import { bearer, forgedToken, genuineToken } from '../harness/tokens.js'

/*
 * GraphQL over SSE (/graphql/stream, graphql-sse), both modes. Its requests are not rate limited per
 * minute (streams are capped per caller: SSE_MAX_STREAMS_PER_CALLER = 20, so attacks keep at most 10
 * open at once); attacks come with forged tokens of made-up keys, or the account's token where a stream
 * must run (a live dataset).
 */

const streamHeaders = { 'content-type': 'application/json', accept: 'text/event-stream' }
/** A distinct-connections stream that ends after one result: its whole text. */
const oneResult = (payload: string): string => `:\n\nevent: next\ndata: ${payload}\n\nevent: complete\ndata:\n\n`
const BAD_ID_STREAM = `200 ${oneResult(BAD_ID_ERRORS)}`
const liveQuery = `subscription { datasetStatusChanged(datasetId: "${SEED.datasets.ready}", follow: true) { id status } }`
const readyEvent = canonical({ data: { datasetStatusChanged: { id: SEED.datasets.ready, status: 'READY' } } })

export const suite = defineSuite({
  name: 'sse',
  env: {
    // As in the graphql-http suite: deadlines short enough for slow-bodies to see its sockets closed.
    HTTP_HEADERS_TIMEOUT_MS: '1000',
    HTTP_REQUEST_TIMEOUT_MS: '1500'
  },
  cases: [
    hostileCase({
      door: 'sse',
      attack: 'large-variables',
      name: '40 subscriptions by POST with 900 KB of variables never sent before',
      guards: ['issue 22 item 1'],
      memoryGrowthMb: 16,
      run: async ({ url, http, signal }) => {
        const token = forgedToken()
        const pad = 'v'.repeat(900 * 1024)
        const answers = await inWaves(40, 1, signal, async (i) => await http.send(`${url}/graphql/stream`, {
          method: 'POST',
          headers: { ...streamHeaders, ...bearer(token) },
          body: JSON.stringify({ query: BAD_ID_SUBSCRIPTION, variables: { id: BAD_ID, pad: `${i}:${pad}` } })
        }))
        return answers.map(statusAndBody)
      },
      answers: (answers) => { expect(tally(answers)).toEqual({ [BAD_ID_STREAM]: 40 }) },
      upstream: 0
    }),
    hostileCase({
      door: 'sse',
      attack: 'many-unique-variables',
      name: '250 subscriptions by POST and 50 by GET, each with variables never sent before',
      run: async ({ url, http, signal }) => {
        const token = forgedToken()
        const posts = await inWaves(250, 8, signal, async (i) => await http.send(`${url}/graphql/stream`, {
          method: 'POST',
          headers: { ...streamHeaders, ...bearer(token) },
          body: JSON.stringify({ query: BAD_ID_SUBSCRIPTION, variables: { id: BAD_ID, n: i, note: 'u'.repeat(200) } })
        }))
        const gets = await inWaves(50, 8, signal, async (i) => await http.send(
          `${url}/graphql/stream?query=${encodeURIComponent(BAD_ID_SUBSCRIPTION)}&variables=${encodeURIComponent(JSON.stringify({ id: BAD_ID, n: i }))}`,
          { headers: { accept: 'text/event-stream', ...bearer(token) } }
        ))
        return [...posts, ...gets].map(statusAndBody)
      },
      answers: (answers) => { expect(tally(answers)).toEqual({ [BAD_ID_STREAM]: 300 }) },
      upstream: 0
    }),
    hostileCase({
      door: 'sse',
      attack: 'large-documents',
      name: '30 subscriptions by POST with documents never sent before, 900 KB each (a comment)',
      run: async ({ url, http, signal }) => {
        const token = forgedToken()
        const pad = 'c'.repeat(900 * 1024)
        const answers = await inWaves(30, 1, signal, async (i) => await http.send(`${url}/graphql/stream`, {
          method: 'POST',
          headers: { ...streamHeaders, ...bearer(token) },
          body: JSON.stringify({ query: `${BAD_ID_SUBSCRIPTION} # ${i} ${pad}`, variables: { id: BAD_ID } })
        }))
        return answers.map(statusAndBody)
      },
      answers: (answers) => { expect(tally(answers)).toEqual({ [BAD_ID_STREAM]: 30 }) },
      upstream: 0
    }),
    hostileCase({
      door: 'sse',
      attack: 'many-unique-documents',
      name: '300 subscriptions by POST, each a document never sent before (subscription S<n>)',
      run: async ({ url, http, signal }) => {
        const token = forgedToken()
        const answers = await inWaves(300, 8, signal, async (i) => await http.send(`${url}/graphql/stream`, {
          method: 'POST',
          headers: { ...streamHeaders, ...bearer(token) },
          body: JSON.stringify({ query: BAD_ID_SUBSCRIPTION.replace('subscription S(', `subscription S${i}(`), variables: { id: BAD_ID } })
        }))
        return answers.map((answer, i) => statusAndBody(answer).replace(`"column":${28 + String(i).length}`, '"column":28'))
      },
      answers: (answers) => { expect(tally(answers)).toEqual({ [BAD_ID_STREAM]: 300 }) },
      upstream: 0
    }),
    hostileCase({
      door: 'sse',
      attack: 'large-headers',
      name: '100 subscriptions by POST with a 20 KB header (over Node\'s 16 KB for all headers)',
      run: async ({ url, address, signal }) => {
        const token = forgedToken()
        const body = JSON.stringify({ query: BAD_ID_SUBSCRIPTION, variables: { id: BAD_ID } })
        return await inWaves(100, 8, signal, async () => {
          const raw = await rawSocket(url, address)
          raw.socket.write(`${requestHead('POST', '/graphql/stream', { ...streamHeaders, ...bearer(token), 'x-padding': 'p'.repeat(20 * 1024), 'content-length': String(body.length) })}${body}`)
          await raw.closed
          return rawAnswer(raw.received())
        })
      },
      answers: (answers) => { expect(tally(answers)).toEqual({ [HEADERS_TOO_LARGE]: 100 }) },
      upstream: 0
    }),
    hostileCase({
      door: 'sse',
      attack: 'large-frames',
      name: '20 subscriptions by POST announcing a 2 MB body (over the 1 MB body limit) and sending its first 64 KB',
      guards: ['issue 22 item 15'],
      run: async ({ url, address, signal }) => {
        const token = forgedToken()
        const head = (length: number): string => requestHead('POST', '/graphql/stream', { ...streamHeaders, ...bearer(token), 'content-length': String(length) })
        return await inWaves(20, 2, signal, async () => rawAnswer(await oversized(url, address, head, 2 * 1024 * 1024)))
      },
      answers: (answers) => {
        expect(tally(answers)).toEqual({
          [`413 application/json; charset=utf-8 ${errorBody('The request body is over 1 MB, the most this gateway reads: send a smaller document or fewer variables.', 'QUERY_REJECTED')}`]: 20
        })
      },
      upstream: 0
    }),
    hostileCase({
      door: 'sse',
      attack: 'slow-bodies',
      name: '50 sockets that announce a 1 MB subscription body, send 1 KB of it and then nothing',
      guards: ['issue 22 item 5'],
      gatewayEnds: { withinMs: 4_000 },
      run: async ({ url, address, signal, hold }) => {
        const token = forgedToken()
        const sockets = await inWaves(50, 10, signal, async () => {
          const raw = await rawSocket(url, address)
          raw.socket.write(requestHead('POST', '/graphql/stream', { ...streamHeaders, ...bearer(token), 'content-length': String(1024 * 1024) }))
          raw.socket.write(`{"query":"${BAD_ID_SUBSCRIPTION}","variables":{"pad":"${'s'.repeat(1024)}`)
          return raw
        })
        hold(() => { for (const raw of sockets) raw.socket.destroy() })
        return sockets
      },
      answers: (sockets: RawSocket[]) => {
        expect(tally(sockets.map((raw) => rawAnswer(raw.received())))).toEqual({
          [`408 application/json; charset=utf-8 ${errorBody('The request was not received in time: its headers and body must arrive within 1500 ms. Send it again without pausing.', 'QUERY_REJECTED')}`]: 50
        })
      },
      upstream: 0
    }),
    hostileCase({
      door: 'sse',
      attack: 'slow-readers',
      name: 'a single-connection stream never read, and 60 operations sent to it whose refusal echoes a 100 KB alias (6 MB of events)',
      guards: ['issue 22: slow stream readers (STREAM_MAX_BUFFERED_BYTES)'],
      memoryGrowthMb: 4,
      run: async ({ url, address, http, signal, hold }) => {
        const token = forgedToken()
        const reserved = await http.send(`${url}/graphql/stream`, { method: 'PUT', headers: bearer(token) })
        const streamToken = reserved.text
        const reader = await rawSocket(url, address)
        hold(() => { reader.socket.destroy() })
        reader.socket.write(requestHead('GET', '/graphql/stream', { accept: 'text/event-stream', ...bearer(token), 'x-graphql-event-stream-token': streamToken }))
        await within(new Promise<void>((resolve) => {
          const check = (): void => { if (reader.received().includes('\r\n\r\n')) resolve() }
          reader.socket.on('data', check)
          check()
        }), 5_000, 'the stream\'s head')
        reader.socket.pause()
        const alias = 'a'.repeat(100 * 1024)
        const posted = await inWaves(60, 2, signal, async (i) => (await http.send(`${url}/graphql/stream`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...bearer(token), 'x-graphql-event-stream-token': streamToken },
          body: JSON.stringify({
            query: BAD_ID_SUBSCRIPTION.replace('datasetStatusChanged(', `${alias}${i}: datasetStatusChanged(`),
            variables: { id: BAD_ID },
            extensions: { operationId: `op${i}` }
          })
        })).status)
        await sleep(HOLD_UNREAD_MS)
        return { reserved: reserved.status, reader, posted }
      },
      answers: async ({ reserved, reader }) => {
        expect(reserved).toBe(201)
        // The client reads at last: the gateway ended the stream rather than keep what it could not send.
        reader.socket.resume()
        await within(reader.closed, 5_000, 'the end of the unread stream')
      },
      upstream: 0
    }),
    hostileCase({
      door: 'sse',
      attack: 'open-close-churn',
      name: '200 streams of a live dataset opened, read to their first event and closed, 10 at a time; then 20 at once',
      run: async ({ url, http, signal, account }) => {
        const open = async (): Promise<string> => {
          const stream = await http.open(`${url}/graphql/stream`, { method: 'POST', headers: { ...streamHeaders, ...bearer(account) }, body: JSON.stringify({ query: liveQuery }) })
          const text = await within(stream.until('\n\n', 2), 5_000, 'a first event')
          stream.close()
          return statusAndBody({ status: stream.status, text })
        }
        const started = performance.now()
        const churned = await inWaves(200, 10, signal, open)
        const together = await Promise.all(Array.from({ length: 20 }, open))
        return { churned, together, seconds: (performance.now() - started) / 1000 }
      },
      answers: ({ churned, together }) => {
        const first = `200 :\n\nevent: next\ndata: ${readyEvent}\n\n`
        expect(tally(churned)).toEqual({ [first]: 200 })
        // Every stream's slot was given back: the caller's full allowance opens at once.
        expect(tally(together)).toEqual({ [first]: 20 })
      },
      // A poller whose last stream left stops; the next stream starts another: within MAX_POLLS_PER_SECOND.
      upstream: (calls, { seconds }) => { expect(calls.length, 'upstream calls: within MAX_POLLS_PER_SECOND').toBeLessThanOrEqual(pollCeiling(seconds)) }
    }),
    hostileCase({
      door: 'sse',
      attack: 'subscribe-complete-churn',
      name: 'on one single-connection stream, 300 subscriptions to a live dataset started and completed one after the other',
      guards: ['issue 22 item 7'],
      run: async ({ url, http, signal, account }) => {
        const reserved = await http.send(`${url}/graphql/stream`, { method: 'PUT', headers: bearer(account) })
        const streamToken = reserved.text
        const stream = await http.open(`${url}/graphql/stream`, { headers: { accept: 'text/event-stream', ...bearer(account), 'x-graphql-event-stream-token': streamToken } })
        await within(stream.until(':'), 5_000, 'the stream\'s first line')
        const headers = { 'content-type': 'application/json', ...bearer(account), 'x-graphql-event-stream-token': streamToken }
        const started = performance.now()
        const pairs = await inWaves(300, 4, signal, async (i) => {
          const subscribed = await http.send(`${url}/graphql/stream`, { method: 'POST', headers, body: JSON.stringify({ query: liveQuery, extensions: { operationId: `op${i}` } }) })
          const completed = await http.send(`${url}/graphql/stream?operationId=op${i}`, { method: 'DELETE', headers: { ...bearer(account), 'x-graphql-event-stream-token': streamToken } })
          return `${subscribed.status} ${completed.status}`
        })
        stream.close()
        return { pairs, seconds: (performance.now() - started) / 1000 }
      },
      answers: ({ pairs }) => { expect(tally(pairs)).toEqual({ '202 200': 300 }) },
      // A subscription that starts after the last one ended polls anew: no more than the poll ceiling lets through.
      upstream: (calls, { seconds }) => { expect(calls.length, 'upstream calls: within MAX_POLLS_PER_SECOND').toBeLessThanOrEqual(pollCeiling(seconds)) }
    }),
    hostileCase({
      door: 'sse',
      attack: 'forged-tokens',
      name: '20 subscriptions to a dataset from one address, each with a forged token never seen before; then a new genuine token from that address',
      run: async ({ url, http, signal }) => {
        const body = JSON.stringify({ query: `subscription { datasetStatusChanged(datasetId: "${SEED.datasets.ready}") { id status } }` })
        const forged = await inWaves(20, 4, signal, async () => await http.send(`${url}/graphql/stream`, { method: 'POST', headers: { ...streamHeaders, ...bearer(forgedToken()) }, body }))
        const genuine = await http.send(`${url}/graphql/stream`, { method: 'POST', headers: { ...streamHeaders, ...bearer(genuineToken(DEMO_ACCOUNTS.primary)) }, body })
        return { forged: forged.map(statusAndBody), genuine: statusAndBody(genuine) }
      },
      answers: ({ forged, genuine }) => {
        expect(tally(forged)).toEqual({
          [`200 ${oneResult(errorBody('Visual Layer refused your token: Invalid token: unknown API key in kid. Sign a fresh Visual Layer JWT and try again.', 'UNAUTHENTICATED', { upstream: { status: 401 } }))}`]: 20
        })
        expect(genuine).toBe(`200 ${oneResult(readyEvent)}`)
      },
      upstream: (calls) => {
        expect(tally(calls.map((call) => `${call.method} ${call.path} ${call.status}`))).toEqual({
          [`GET /api/v1/dataset/${SEED.datasets.ready} 401`]: 20,
          [`GET /api/v1/dataset/${SEED.datasets.ready} 200`]: 1
        })
      }
    })
  ]
})
