import { setTimeout as sleep } from 'node:timers/promises'
import { expect } from 'vitest'
import { DEMO_ACCOUNTS, SEED } from '../../../src/emulator/index.js'
import { HEADERS_TOO_LARGE, problem, rawAnswer, statusAndBody, tally } from '../harness/answers.js'
import { HOLD_UNREAD_MS, hostileCase } from '../harness/case.js'
import { firstResponse, inWaves, oversized, rawSocket, requestHead, within, type RawSocket } from '../harness/http.js'
import { defineSuite } from '../harness/suite.js'
import { bearer, forgedToken, genuineToken } from '../harness/tokens.js'

/*
 * REST under /v1. Reads count against RATE_LIMIT_PER_MINUTE per caller (the account's key: the counts
 * below stay within 1,200 for the file), writes (POST) against RATE_LIMIT_MUTATIONS_PER_MINUTE (60), and
 * requests with unproven tokens in their address' lane (RATE_LIMIT_UNPROVEN_PER_MINUTE, 60, issue 22 item 8).
 */

const json = { 'content-type': 'application/json' }
const enrichments = (url: string): string => `${url}/v1/datasets/${SEED.datasets.ready}/enrichments`

export const suite = defineSuite({
  name: 'rest',
  env: {
    // As in the graphql-http suite: deadlines short enough for slow-bodies to see its sockets closed.
    HTTP_HEADERS_TIMEOUT_MS: '1000',
    HTTP_REQUEST_TIMEOUT_MS: '1500'
  },
  cases: [
    hostileCase({
      door: 'rest',
      attack: 'many-unique-variables',
      name: '300 task-list queries, each with parameters never sent before (a pageSize the schema refuses)',
      run: async ({ url, http, signal, account }) => {
        const answers = await inWaves(300, 8, signal, async (i) => await http.send(`${url}/v1/tasks?pageSize=${i}x${'9'.repeat(100)}`, { headers: bearer(account) }))
        return answers.map(statusAndBody)
      },
      answers: (answers) => {
        expect(tally(answers)).toEqual({ [problem(400, 'bad-user-input', 'Bad request', 'Query parameter pageSize must be an integer from 5 to 50.', 'BAD_USER_INPUT')]: 300 })
      },
      upstream: 0
    }),
    hostileCase({
      door: 'rest',
      attack: 'large-documents',
      name: '30 enrichments with a 900 KB body never sent before (a model type too long), with a forged token',
      run: async ({ url, http, signal }) => {
        const token = forgedToken()
        const pad = 't'.repeat(900 * 1024)
        const answers = await inWaves(30, 1, signal, async (i) => await http.send(enrichments(url), {
          method: 'POST',
          headers: { ...json, ...bearer(token) },
          body: JSON.stringify({ models: [{ type: `${i}${pad}`, modelId: 'vl_image_captioner_v00' }] })
        }))
        return answers.map(statusAndBody)
      },
      answers: (answers) => {
        expect(tally(answers)).toEqual({ [problem(400, 'bad-user-input', 'Bad request', 'Body field models[0].type must be at most 100 characters long.', 'BAD_USER_INPUT')]: 30 })
      },
      upstream: 0
    }),
    hostileCase({
      door: 'rest',
      attack: 'many-unique-documents',
      name: '100 enrichments with bodies never sent before (a model id unknown to the schema\'s rules), by the account',
      run: async ({ url, http, signal, account }) => {
        const answers = await inWaves(100, 4, signal, async (i) => await http.send(enrichments(url), {
          method: 'POST',
          headers: { ...json, ...bearer(account) },
          body: JSON.stringify({ models: [{ type: 'CAPTION_IMAGES', modelId: `m${i}-${'x'.repeat(250)}` }] })
        }))
        return answers.map(statusAndBody)
      },
      answers: (answers) => {
        // Writes: the first 60 a minute are checked (the model id is too long), the rest refused before any work.
        expect(tally(answers)).toEqual({
          [problem(400, 'bad-user-input', 'Bad request', 'Body field models[0].modelId must be at most 200 characters long.', 'BAD_USER_INPUT')]: 60,
          [problem(429, 'rate-limited', 'Too many requests', 'Too many writes: at most 60 a minute for each caller. Try again in <n> <unit>.', 'RATE_LIMITED')]: 40
        })
      },
      upstream: 0
    }),
    hostileCase({
      door: 'rest',
      attack: 'large-headers',
      name: '100 requests with a 20 KB header (over Node\'s 16 KB for all headers)',
      run: async ({ url, address, signal }) => {
        const token = forgedToken()
        return await inWaves(100, 8, signal, async () => {
          const raw = await rawSocket(url, address)
          raw.socket.write(requestHead('GET', '/v1/datasets', { ...bearer(token), 'x-padding': 'p'.repeat(20 * 1024) }))
          await raw.closed
          return rawAnswer(raw.received())
        })
      },
      answers: (answers) => { expect(tally(answers)).toEqual({ [HEADERS_TOO_LARGE]: 100 }) },
      upstream: 0
    }),
    hostileCase({
      door: 'rest',
      attack: 'large-headers',
      name: '100 requests with a 150-character path parameter (over Fastify\'s 100)',
      guards: ['issue 22 item 15'],
      run: async ({ url, http, signal, account }) => {
        const answers = await inWaves(100, 8, signal, async (i) => await http.send(`${url}/v1/datasets/${String(i).padStart(150, 'a')}`, { headers: bearer(account) }))
        return answers.map((answer) => ({ status: answer.status, type: answer.headers['content-type'], text: answer.text }))
      },
      answers: (answers) => {
        for (const answer of answers) {
          // In the door's shape (a problem naming the parameter), and never the path echoed back.
          expect(answer.type).toBe('application/problem+json; charset=utf-8')
          expect(answer.text).not.toContain('aaaaaaaaaa')
          expect(JSON.parse(answer.text)).toMatchObject({ status: answer.status, code: 'BAD_USER_INPUT' })
        }
        expect(tally(answers.map((answer) => String(answer.status)))).toEqual({ [answers[0]?.status === 414 ? '414' : '400']: 100 })
      },
      upstream: 0
    }),
    hostileCase({
      door: 'rest',
      attack: 'large-frames',
      name: '20 enrichments announcing a 2 MB body (over the 1 MB body limit) and sending its first 64 KB, with a forged token',
      run: async ({ url, address, signal }) => {
        const token = forgedToken()
        const head = (length: number): string => requestHead('POST', `/v1/datasets/${SEED.datasets.ready}/enrichments`, { ...json, ...bearer(token), 'content-length': String(length) })
        return await inWaves(20, 2, signal, async () => rawAnswer(await oversized(url, address, head, 2 * 1024 * 1024)))
      },
      answers: (answers) => {
        expect(tally(answers)).toEqual({
          [problem(413, 'bad-user-input', 'Bad request', 'Request body is too large', 'BAD_USER_INPUT').replace(/^413 /, '413 application/problem+json; charset=utf-8 ')]: 20
        })
      },
      upstream: 0
    }),
    hostileCase({
      door: 'rest',
      attack: 'slow-bodies',
      name: '50 sockets that announce a 1 MB enrichment body, send 1 KB of it and then nothing',
      guards: ['issue 22 item 5'],
      gatewayEnds: { withinMs: 4_000 },
      run: async ({ url, address, signal, hold }) => {
        const token = forgedToken()
        const sockets = await inWaves(50, 10, signal, async () => {
          const raw = await rawSocket(url, address)
          raw.socket.write(requestHead('POST', `/v1/datasets/${SEED.datasets.ready}/enrichments`, { ...json, ...bearer(token), 'content-length': String(1024 * 1024) }))
          raw.socket.write(`{"models":[{"type":"${'s'.repeat(1024)}`)
          return raw
        })
        hold(() => { for (const raw of sockets) raw.socket.destroy() })
        return sockets
      },
      answers: (sockets: RawSocket[]) => {
        expect(tally(sockets.map((raw) => rawAnswer(raw.received())))).toEqual({
          [problem(408, 'request-timeout', 'Request timeout', 'The request was not received in time: its headers and body must arrive within 1500 ms. Send it again without pausing.', 'BAD_USER_INPUT')
            .replace(/^408 /, '408 application/problem+json; charset=utf-8 ')]: 50
        })
      },
      upstream: 0
    }),
    hostileCase({
      door: 'rest',
      attack: 'slow-readers',
      name: '20 sockets that each pipeline 20 requests for the OpenAPI document (33 KB) and never read the answers',
      run: async ({ url, address, hold, account }) => {
        const request = requestHead('GET', '/v1/openapi.json', bearer(account))
        const sockets: RawSocket[] = []
        for (let i = 0; i < 20; i++) {
          const raw = await rawSocket(url, address, { read: false })
          raw.socket.write(request.repeat(20))
          sockets.push(raw)
        }
        hold(() => { for (const raw of sockets) raw.socket.destroy() })
        await sleep(HOLD_UNREAD_MS)
        return sockets
      },
      answers: async (sockets: RawSocket[]) => {
        const first = sockets[0]
        if (first === undefined) throw new Error('no socket')
        first.socket.resume()
        await within(new Promise<void>((resolve) => { first.socket.on('data', () => { if (first.received().split('HTTP/1.1 200 OK').length > 20) resolve() }) }), 5_000, 'the 20 answers')
        const answer = firstResponse(first.received())
        expect(answer.status).toBe(200)
        expect((JSON.parse(answer.body) as { openapi: string }).openapi).toBe('3.1.0')
      },
      upstream: 0
    }),
    hostileCase({
      door: 'rest',
      attack: 'open-close-churn',
      name: '300 connections each sending one request and closing, then 100 that open and close at once',
      run: async ({ url, address, signal, account }) => {
        const request = requestHead('GET', '/v1/datasets/not-a-uuid', { ...bearer(account), connection: 'close' })
        const answered = await inWaves(300, 10, signal, async () => {
          const raw = await rawSocket(url, address)
          raw.socket.write(request)
          await raw.closed
          return rawAnswer(raw.received())
        })
        const bare = await inWaves(100, 10, signal, async () => {
          const raw = await rawSocket(url, address)
          raw.socket.end()
          await raw.closed
          return raw.received()
        })
        return { answered, bare }
      },
      answers: ({ answered, bare }) => {
        expect(tally(answered)).toEqual({
          [problem(400, 'bad-user-input', 'Bad request', 'Path parameter id must be a Visual Layer id (a UUID such as ad48d250-1232-11f1-bfca-fa39f6ed1f22).', 'BAD_USER_INPUT')
            .replace(/^400 /, '400 application/problem+json; charset=utf-8 ')]: 300
        })
        expect(tally(bare)).toEqual({ '': 100 })
      },
      upstream: 0
    }),
    hostileCase({
      door: 'rest',
      attack: 'forged-tokens',
      name: '70 dataset lists from one address, each with a forged token never seen before, then a new genuine token from that address',
      guards: ['issue 22 item 8'],
      run: async ({ url, http, signal }) => {
        const forged = await inWaves(70, 1, signal, async () => await http.send(`${url}/v1/datasets`, { headers: bearer(forgedToken()) }))
        const genuine = await http.send(`${url}/v1/datasets`, { headers: bearer(genuineToken(DEMO_ACCOUNTS.primary)) })
        return { forged: forged.map(statusAndBody), genuine }
      },
      answers: ({ forged, genuine }) => {
        expect(tally(forged)).toEqual({
          [problem(401, 'unauthenticated', 'Not authenticated', 'Visual Layer refused your token: Invalid token: unknown API key in kid. Sign a fresh Visual Layer JWT and try again.', 'UNAUTHENTICATED')]: 60,
          [problem(429, 'rate-limited', 'Too many requests', 'Too many requests with tokens Visual Layer has not accepted yet: at most 60 a minute from one address, or for one API key once a token of it was accepted. Try again in <n> <unit>.', 'RATE_LIMITED')]: 10
        })
        expect(genuine.status).toBe(200)
        expect((JSON.parse(genuine.text) as { nodes: Array<{ id: string }> }).nodes.map((dataset) => dataset.id)).toContain(SEED.datasets.ready)
      },
      upstream: (calls) => {
        expect(calls.map((call) => `${call.method} ${call.path} ${call.status}`)).toEqual([...Array(60).fill('GET /api/v1/datasets 401'), 'GET /api/v1/datasets 200'])
      }
    })
  ]
})
