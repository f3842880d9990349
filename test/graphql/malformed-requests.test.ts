import { afterAll, beforeAll, expect, it } from 'vitest'
import WebSocket from 'ws'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'

/*
 * Malformed HTTP requests and WebSocket frames each get their documented answer (docs/errors.md:
 * status, QUERY_REJECTED, a message saying what to send), cost Visual Layer nothing, and are never
 * logged as errors (level 50 or more). Documents that are not strings, bodies that are not JSON and
 * oversized anonymous bodies are in hostile-documents.test.ts; WebSocket protocol errors in
 * live/protocol.test.ts and live/ws-logging.test.ts.
 */

let gw: TestGateway
beforeAll(async () => { gw = await startTestGateway() })
afterAll(async () => {
  expect(gw.logs.entries().filter((entry) => (entry.level as number) >= 50)).toEqual([])
  expect(gw.emulator.calls()).toEqual([])
  await gw.close()
})

const json = { 'content-type': 'application/json' }
const refusal = (message: string, requestId: string): unknown => ({ data: null, errors: [{ message, extensions: { code: 'QUERY_REJECTED', requestId } }] })
const BATCH = 'Batched requests (a JSON array of operations) are not accepted: send one operation per request. ' +
  'Requests on one keep-alive connection cost about as little, and each counts against the rate limit.'
const NO_DOCUMENT = 'The request has no GraphQL document: send it as the "query" parameter (a JSON body {"query": "..."}, or ?query=... on a GET).'
const VARIABLES = 'The "variables" parameter must be a JSON object mapping each variable name to its value, e.g. {"id": "..."}.'
const MEDIA_TYPE = 'Unsupported Content-Type: send the request as application/json ({"query": "...", "variables": {...}}), or the document alone as application/graphql.'

it.each<[string, RequestInit, number, string]>([
  ['a body that is a JSON list', { headers: json, body: JSON.stringify([{ query: '{ __typename }' }]) }, 400, BATCH],
  ['a body that is a JSON string', { headers: json, body: JSON.stringify('{ __typename }') }, 400, NO_DOCUMENT],
  ['a body that is JSON null', { headers: json, body: 'null' }, 400, NO_DOCUMENT],
  ['an empty JSON body', { headers: json, body: '' }, 400, 'Body cannot be empty when content-type is set to \'application/json\''],
  ['variables as a string', { headers: json, body: JSON.stringify({ query: 'query ($id: ID!) { dataset(id: $id) { id } }', variables: '{"id":"x"}' }) }, 400, VARIABLES],
  ['variables as a list', { headers: json, body: JSON.stringify({ query: '{ __typename }', variables: [1] }) }, 400, VARIABLES],
  ['an unknown operationName', { headers: json, body: JSON.stringify({ query: 'query A { __typename }', operationName: 'B' }) }, 400, 'The document has no operation named "B"; it holds A.'],
  ['two operations and no operationName', { headers: json, body: JSON.stringify({ query: 'query A { __typename } query B { __typename }' }) }, 400,
    'The document holds 2 operations (A, B): name the one to run in "operationName".'],
  ['an XML body', { headers: { 'content-type': 'application/xml' }, body: '<query/>' }, 415, MEDIA_TYPE],
  // With a preflight header, so that CSRF prevention (test/transports/graphql-over-http.test.ts) lets it through to the media type check.
  ['a form body', { headers: { 'content-type': 'application/x-www-form-urlencoded', 'graphql-preflight': '1' }, body: 'query=%7B__typename%7D' }, 415, MEDIA_TYPE],
  ['a body over 1 MB', { headers: json, body: JSON.stringify({ query: '{ __typename }', variables: { padding: 'x'.repeat(1_100_000) } }) }, 413,
    'The request body is over 1 MB, the most this gateway reads: send a smaller document or fewer variables.']
])('answers %s with its documented refusal', async (_name, init, status, message) => {
  const res = await fetch(`${gw.url}/graphql`, { method: 'POST', ...init, headers: { ...init.headers as Record<string, string>, 'x-request-id': 'req-bad' } })
  expect([res.status, await res.json()]).toEqual([status, refusal(message, 'req-bad')])
})

it('answers variables that are not JSON in a GET query string with 400', async () => {
  const res = await fetch(`${gw.url}/graphql?query=${encodeURIComponent('{ __typename }')}&variables=notjson`, { headers: { 'x-request-id': 'req-get', 'graphql-preflight': '1' } })
  expect(res.status).toBe(400)
  expect(await res.json()).toEqual(refusal(VARIABLES, 'req-get'))
})

interface Closed { code: number, reason: string }
async function closedAfter (frames: Array<string | Buffer>, binary: boolean[]): Promise<Closed> {
  const socket = new WebSocket(`${gw.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws')
  return await new Promise<Closed>((resolve) => {
    socket.on('open', () => { frames.forEach((frame, i) => { socket.send(frame, { binary: binary[i] ?? false }) }) })
    socket.on('close', (code, reason) => { resolve({ code, reason: reason.toString() }) })
  })
}

const init = JSON.stringify({ type: 'connection_init', payload: {} })
const BINARY = { code: 4400, reason: 'Binary frames are not accepted: send graphql-transport-ws messages as text' }

it.each<[string, Array<string | Buffer>, boolean[], Closed]>([
  ['a binary connection_init', [Buffer.from(init)], [true], BINARY],
  ['a binary frame after connection_init', [init, Buffer.from([0xde, 0xad, 0xbe, 0xef])], [false, true], BINARY],
  ['a frame of an unknown type', [init, JSON.stringify({ type: 'launch', id: '1' })], [false, false], { code: 4400, reason: 'Invalid message received' }],
  ['a subscribe without a payload', [init, JSON.stringify({ type: 'subscribe', id: '1' })], [false, false], { code: 4400, reason: 'Invalid message received' }],
  ['a frame of JSON that is not an object', [init, '[1,2,3]'], [false, false], { code: 4400, reason: 'Invalid message received' }],
  // Sent before the ack: WS_MAX_INIT_BYTES refuses it (over 1 MB after the ack, ws' own limit: test/live/ws-logging.test.ts).
  ['a frame over 1 MB right after connection_init', [init, 'x'.repeat(1024 * 1024 + 1)], [false, false],
    { code: 1009, reason: 'Too much sent before connection_ack: at most 16384 bytes. Send connection_init first, and wait for its ack.' }]
])('closes a WebSocket on %s with its documented code and reason', async (_name, frames, binary, closed) => {
  expect(await closedAfter(frames, binary)).toEqual(closed)
})

it('refuses a document with many validation errors after the first MAX_VALIDATION_ERRORS (10), saying the rest were not checked', async () => {
  // Each unknown field costs graphql a search for its closest names: 100 of them cost about 5 ms of CPU per refusal.
  const query = `query Many { ${Array.from({ length: 100 }, (_, f) => `unknownField${f}`).join(' ')} }`
  const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { ...json, 'x-request-id': 'req-many' }, body: JSON.stringify({ query }) })
  const body = await res.json() as { errors: Array<{ message: string, extensions: { code: string } }> }
  expect([res.status, body.errors.map((error) => [error.message, error.extensions.code])]).toEqual([400, [
    ...Array.from({ length: 10 }, (_, f) => [`Cannot query field "unknownField${f}" on type "Query".`, 'QUERY_REJECTED']),
    ['The document has more than 10 validation errors: the rest were not checked. Fix these, then send it again.', 'QUERY_REJECTED']
  ]])
})
