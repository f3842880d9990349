import { createSigner } from 'fast-jwt'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { DEMO_ACCOUNTS, SEED } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { visualLayerToken } from '../helpers/tokens.js'

/**
 * A token Visual Layer has not accepted yet makes one upstream call at a time; once Visual Layer
 * refuses it, nothing more is sent with it and the caller gets 401 UNAUTHENTICATED, as for the
 * gateway's own refusals. Issue 9, item 3: 250 aliases of datasetsByIds(100 ids) with a forged
 * token made 25,000 upstream calls.
 */

let gw: TestGateway
// The hostile document has about 25,000 tokens: the token limit is raised so that it runs and the
// call budget of an unproven token is what stops it (the alias and cost limits, which would refuse it first, too).
beforeAll(async () => { gw = await startTestGateway({ AUTH_MODE: 'passthrough', MAX_QUERY_TOKENS: '100000', MAX_QUERY_ALIASES: '1000', MAX_QUERY_COST: '1000000' }) })
afterAll(async () => { await gw.close() })
beforeEach(() => { gw.emulator.reset() })

const acme = DEMO_ACCOUNTS.primary
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })
let serial = 0
/** Right shape, right kid and sub, wrong secret: only Visual Layer can tell. Each one distinct. */
const forgedToken = (): string => createSigner({ key: 'a-guessed-secret', algorithm: 'HS256', kid: acme.apiKey })({ sub: acme.apiKey, iss: 'sdk', exp: Math.floor(Date.now() / 1000) + 600, jti: `forged-${++serial}` })
const uuid = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`

/** ALIASES aliases of datasetsByIds, each with IDS distinct ids never asked before. */
function hostileDocument (aliases: number, ids: number): string {
  const fields = Array.from({ length: aliases }, (_, a) =>
    `a${a}: datasetsByIds(ids: [${Array.from({ length: ids }, (_, i) => `"${uuid(a * ids + i)}"`).join(',')}]) { id }`)
  return `{ ${fields.join('\n')} }`
}

const REFUSED = 'Visual Layer refused your token: Invalid token: signature verification failed; sign it with your API secret. Sign a fresh Visual Layer JWT and try again.'

describe('a forged token in passthrough', () => {
  it('costs Visual Layer one call for 250 aliases of 100 ids, and the operation answers 401 UNAUTHENTICATED with one error', async () => {
    const document = hostileDocument(250, 100)
    expect(document.length).toBeGreaterThan(900_000)
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-forged', ...bearer(forgedToken()) },
      body: JSON.stringify({ query: document })
    })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe('Bearer')
    expect(await res.json()).toEqual({
      data: null,
      errors: [{ message: REFUSED, extensions: { code: 'UNAUTHENTICATED', requestId: 'req-forged', upstream: { status: 401 } } }]
    })
    expect(gw.emulator.calls().map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([`GET /api/v1/dataset/${uuid(0)} 401`])
  })

  it('refuses the token again at once, over HTTP and WebSocket, without an upstream call', async () => {
    const token = forgedToken()
    const first = await gw.gql(`{ dataset(id: "${SEED.datasets.ready}") { id } }`, undefined, bearer(token))
    expect(first.status).toBe(401)
    expect(gw.emulator.calls()).toHaveLength(1)
    gw.emulator.clearCalls()

    const again = await gw.gql(`{ dataset(id: "${SEED.datasets.ready}") { id } }`, undefined, { ...bearer(token), 'x-request-id': 'req-again' })
    expect({ status: again.status, authenticate: again.headers.get('www-authenticate'), body: again.body }).toEqual({
      status: 401,
      authenticate: 'Bearer',
      body: { data: null, errors: [{ message: 'Visual Layer refused this token: sign a fresh Visual Layer JWT and try again.', extensions: { code: 'UNAUTHENTICATED', requestId: 'req-again' } }] }
    })
    const socket = new WebSocket(`${gw.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws')
    const closed = await new Promise<{ code: number, reason: string }>((resolve, reject) => {
      socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${token}` } })))
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))
      socket.on('error', reject)
    })
    expect(closed).toEqual({ code: 4403, reason: 'Visual Layer refused this token: sign a fresh Visual Layer JWT and try again.' })
    expect(gw.emulator.calls()).toEqual([])
  })

  it('fails every request in flight with the token fast once the first is refused: one call for ten parallel requests', async () => {
    const token = forgedToken()
    // The first call is held, so that the other nine requests are all waiting behind it.
    gw.emulator.injectFault({ path: '/api/v1/dataset/*', delayMs: 200 })
    const answers = await Promise.all(Array.from({ length: 10 }, async (_, i) => await gw.gql(`{ dataset(id: "${uuid(i)}") { id } }`, undefined, bearer(token))))
    expect(answers.map((res) => [res.status, res.body.data, res.body.errors?.map((e) => e.extensions?.code)])).toEqual(Array.from({ length: 10 }, () => [401, null, ['UNAUTHENTICATED']]))
    expect(gw.emulator.calls()).toHaveLength(1)
  })
})

describe('answers that prove nothing about a token', () => {
  it.each([[503], [502], [429]])('leave a forged token unproven after a %i from in front of Visual Layer: still one call at a time', async (status) => {
    const token = forgedToken()
    // Faults answer before the emulator looks at the token, as a proxy or a limiter in front would.
    gw.emulator.injectFault({ path: `/api/v1/dataset/${uuid(0)}`, status })
    const first = await gw.gql(`{ dataset(id: "${uuid(0)}") { id } }`, undefined, bearer(token))
    expect(first.status).toBe(200)
    expect(first.body.errors?.map((e) => e.extensions?.upstream)).toEqual([{ status }])
    gw.emulator.clearCalls()
    const ids = [1, 2, 3, 4, 5].map(uuid)
    const res = await gw.gql(`{ datasetsByIds(ids: ${JSON.stringify(ids)}) { id } }`, undefined, bearer(token))
    expect([res.status, res.body.errors?.map((e) => e.extensions?.code)]).toEqual([401, ['UNAUTHENTICATED']])
    expect(gw.emulator.calls().map((c) => `${c.path} ${c.status}`)).toEqual([`/api/v1/dataset/${uuid(1)} 401`])
  })
})

describe('a genuine token Visual Layer has not accepted yet', () => {
  it('makes one upstream call at a time until Visual Layer accepts it, then runs in parallel', async () => {
    const token = visualLayerToken(acme, { jti: 'unproven-parallel' })
    const ids = [SEED.datasets.ready, SEED.datasets.readOnly, SEED.datasets.enriched, SEED.datasets.partialIndex, SEED.datasets.readySecond]
    gw.emulator.injectFault({ path: '/api/v1/dataset/*', delayMs: 150, times: ids.length })
    const calls = (): Array<{ status: number }> => gw.emulator.calls({ path: '/api/v1/dataset/*' })
    // Samples of (calls arrived, calls unanswered, whether the first is unanswered), taken at each arrival and answer while the operation runs.
    const samples: Array<{ arrived: number, held: number, firstHeld: boolean }> = []
    const stopSampling = gw.emulator.onCall(() => {
      const seen = calls()
      if (seen.length > 0) samples.push({ arrived: seen.length, held: seen.filter((c) => c.status === 0).length, firstHeld: seen[0]?.status === 0 })
    })
    try {
      const res = await gw.gql(`{ datasetsByIds(ids: ${JSON.stringify(ids)}) { id } }`, undefined, bearer(token))
      expect(res.body).toEqual({ data: { datasetsByIds: ids.map((id) => ({ id })) } })
    } finally {
      stopSampling()
    }
    const whileFirstHeld = samples.filter((s) => s.firstHeld)
    // The first call was seen held (the samples watched), and nothing else had arrived meanwhile.
    expect(whileFirstHeld.length).toBeGreaterThan(0)
    expect(new Set(whileFirstHeld.map((s) => s.arrived))).toEqual(new Set([1]))
    // Once accepted, the other four were in flight together (the first call's answer proved the token).
    expect(Math.max(...samples.filter((s) => !s.firstHeld).map((s) => s.held))).toBeGreaterThan(1)
    expect(calls().map((c) => c.status)).toEqual([200, 200, 200, 200, 200])
  })
})
