import { setTimeout as sleep } from 'node:timers/promises'
import { expect } from 'vitest'
import { DEMO_ACCOUNTS, SEED } from '../../../src/emulator/index.js'
import { HEADERS_TOO_LARGE, problem, rawAnswer, statusAndBody, tally } from '../harness/answers.js'
import { HOLD_UNREAD_MS, hostileCase, pollCeiling } from '../harness/case.js'
import { firstResponse, inWaves, rawSocket, requestHead, wholeResponse, within, type RawSocket } from '../harness/http.js'
import { defineSuite } from '../harness/suite.js'
import { bearer, forgedToken, genuineToken } from '../harness/tokens.js'

/*
 * REST event streams: GET /v1/datasets/{id}/events?follow=true, a stream that stays open as long as its
 * client, and the live resource GET /v1/datasets/{id}?live=1, which opens its streams through the same
 * door (the same cap per caller, buffer bound and token expiry, on the same poller): the cases that hold
 * streams open send half of them there. Streams of a live dataset need a token Visual Layer accepts (the account's); each request counts
 * against the REST door's allowance, and open streams against REST_MAX_STREAMS_PER_CALLER (issue 22 item 10).
 */

const eventsPath = `/v1/datasets/${SEED.datasets.ready}/events?follow=true`
const livePath = `/v1/datasets/${SEED.datasets.ready}?live=1`
/** A stream's first event, on either path. */
const FIRST_EVENT = /event: (status|dataset)\n/

/** Opens a stream on a raw socket and resolves with it once its head (and first event) or a whole refusal arrived. */
async function openRaw (url: string, address: string, token: string, path = eventsPath): Promise<RawSocket> {
  const raw = await rawSocket(url, address)
  raw.socket.write(requestHead('GET', path, bearer(token)))
  await within(new Promise<void>((resolve) => {
    const check = (): void => {
      const text = raw.received()
      if (firstResponse(text).status === 200 ? FIRST_EVENT.test(text) : wholeResponse(text)) resolve()
    }
    raw.socket.on('data', check)
    void raw.closed.then(resolve)
    check()
  }), 5_000, 'a stream\'s head')
  return raw
}

export const suite = defineSuite({
  name: 'rest-events',
  cases: [
    hostileCase({
      door: 'rest-events',
      attack: 'large-headers',
      name: '50 stream requests with a 20 KB header (over Node\'s 16 KB for all headers)',
      run: async ({ url, address, signal, account }) => await inWaves(50, 8, signal, async () => {
        const raw = await rawSocket(url, address)
        raw.socket.write(requestHead('GET', eventsPath, { ...bearer(account), 'last-event-id': 'l'.repeat(20 * 1024) }))
        await raw.closed
        return rawAnswer(raw.received())
      }),
      answers: (answers) => { expect(tally(answers)).toEqual({ [HEADERS_TOO_LARGE]: 50 }) },
      upstream: 0
    }),
    hostileCase({
      door: 'rest-events',
      attack: 'slow-readers',
      name: 'one caller opens 60 streams of a live dataset (every other one GET ?live=1) and never reads them',
      guards: ['issue 22 item 10'],
      run: async ({ url, address, signal, hold, account }) => {
        let opened = 0
        const sockets = await inWaves(60, 10, signal, async () => {
          const raw = await openRaw(url, address, account, opened++ % 2 === 0 ? eventsPath : livePath)
          raw.socket.pause()
          return raw
        })
        hold(() => { for (const raw of sockets) raw.socket.destroy() })
        await sleep(HOLD_UNREAD_MS)
        return sockets.map((raw) => firstResponse(raw.received()).status)
      },
      answers: (statuses) => {
        // REST_MAX_STREAMS_PER_CALLER (20): the rest are refused, as /graphql/stream refuses its 21st.
        expect(tally(statuses.map(String))).toEqual({ 200: 20, 429: 40 })
      },
      upstream: { atMost: 2 }
    }),
    hostileCase({
      door: 'rest-events',
      attack: 'open-close-churn',
      name: '200 streams of a live dataset (every other one GET ?live=1) opened, read to their first event and closed, 10 at a time; then 20 at once',
      run: async ({ url, address, signal, account }) => {
        let opened = 0
        const open = async (): Promise<string> => {
          const raw = await openRaw(url, address, account, opened++ % 2 === 0 ? eventsPath : livePath)
          raw.socket.destroy()
          const answer = firstResponse(raw.received())
          return `${answer.status} ${FIRST_EVENT.test(answer.body) ? 'first event' : answer.body}`
        }
        const started = performance.now()
        const churned = await inWaves(200, 10, signal, open)
        const together = await Promise.all(Array.from({ length: 20 }, open))
        return { churned, together, seconds: (performance.now() - started) / 1000 }
      },
      answers: ({ churned, together }) => {
        expect(tally(churned)).toEqual({ '200 first event': 200 })
        expect(tally(together)).toEqual({ '200 first event': 20 })
      },
      upstream: (calls, { seconds }) => { expect(calls.length, 'upstream calls: within MAX_POLLS_PER_SECOND').toBeLessThanOrEqual(pollCeiling(seconds)) }
    }),
    hostileCase({
      door: 'rest-events',
      attack: 'forged-tokens',
      name: '30 streams from one address, each with a forged token never seen before; then a new genuine token from that address',
      run: async ({ url, http, signal }) => {
        const forged = await inWaves(30, 4, signal, async () => await http.send(`${url}${eventsPath}`, { headers: bearer(forgedToken()) }))
        const stream = await http.open(`${url}${eventsPath}`, { headers: bearer(genuineToken(DEMO_ACCOUNTS.primary)) })
        const first = await within(stream.until('\n\n'), 5_000, 'the genuine stream\'s first event')
        stream.close()
        return { forged: forged.map(statusAndBody), genuine: `${stream.status} ${first.split('\n')[1] ?? ''}` }
      },
      answers: ({ forged, genuine }) => {
        expect(tally(forged)).toEqual({
          [problem(401, 'unauthenticated', 'Not authenticated', 'Visual Layer refused your token: Invalid token: unknown API key in kid. Sign a fresh Visual Layer JWT and try again.', 'UNAUTHENTICATED')]: 30
        })
        expect(genuine).toBe('200 event: status')
      },
      upstream: (calls) => {
        expect(tally(calls.map((call) => `${call.method} ${call.path} ${call.status}`))).toEqual({
          [`GET /api/v1/dataset/${SEED.datasets.ready} 401`]: 30,
          [`GET /api/v1/dataset/${SEED.datasets.ready} 200`]: 1
        })
      }
    })
  ]
})
