import { createSigner } from 'fast-jwt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { DEMO_ACCOUNTS, SEED, type DemoAccount } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { visualLayerToken } from '../helpers/tokens.js'
import { record, wsClient } from '../helpers/ws.js'
import { tryAgainIn } from '../helpers/rate-limits.js'

/**
 * Issue 22, item 8: in passthrough a token Visual Layer has not accepted yet (unproven) could be made
 * up at will, so its requests are bounded; but they used to count against the client address, where
 * forged tokens used up the allowance a new genuine token from the same address (every caller, behind
 * a balancer without TRUST_PROXY) needed for the one request that would prove it. Unproven tokens now
 * have an allowance of their own (RATE_LIMIT_UNPROVEN_PER_MINUTE), per address, or per API key once a
 * token of that key has been accepted here: forged tokens stay bounded, and cannot lock out the next
 * token of an account Visual Layer has vouched for.
 */

const acme = DEMO_ACCOUNTS.primary
const globex = DEMO_ACCOUNTS.secondary
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })
let serial = 0
const exp = (): number => Math.floor(Date.now() / 1000) + 600
/** Visual Layer's shape, a made-up API key and secret: only Visual Layer can tell. Each one distinct. */
const forged = (apiKey = `vl-made-up-${++serial}`): string =>
  createSigner({ key: 'a-guessed-secret', algorithm: 'HS256', kid: apiKey })({ sub: apiKey, iss: 'sdk', exp: exp(), jti: `forged-${++serial}` })
const genuine = (account: DemoAccount): string => visualLayerToken(account, { jti: `genuine-${++serial}` })

const ACME_QUERY = `{ dataset(id: "${SEED.datasets.ready}") { id displayName } }`
const ACME_ANSWER = { data: { dataset: { id: SEED.datasets.ready, displayName: 'Product Images Q1' } } }
const GLOBEX_QUERY = `{ dataset(id: "${SEED.datasets.secondaryReady}") { id displayName } }`
const GLOBEX_ANSWER = { data: { dataset: { id: SEED.datasets.secondaryReady, displayName: 'Robot Grasp Trials' } } }
const UNKNOWN_KEY = 'Visual Layer refused your token: Invalid token: unknown API key in kid. Sign a fresh Visual Layer JWT and try again.'

async function statuses (gw: TestGateway, tokens: string[]): Promise<number[]> {
  const out: number[] = []
  for (const token of tokens) out.push((await gw.gql(ACME_QUERY, undefined, bearer(token))).status)
  return out
}

describe('forged tokens from one address (RATE_LIMIT_PER_MINUTE=5, default allowance of unproven tokens)', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway({ AUTH_MODE: 'passthrough', RATE_LIMIT_PER_MINUTE: '5', RATE_LIMIT_UNPROVEN_PER_MINUTE: String(loadConfig({}).rateLimitUnprovenPerMinute) }) })
  afterAll(async () => { await gw.close() })

  it('do not lock out a new genuine token: after 10 forged requests it gets its answer, and each forged token cost one call', async () => {
    const first = await gw.gql(ACME_QUERY, undefined, { ...bearer(forged()), 'x-request-id': 'req-forged' })
    const rest = await statuses(gw, Array.from({ length: 9 }, () => forged()))
    const forgedCalls = gw.emulator.calls().map((c) => c.status)
    gw.emulator.clearCalls()
    const res = await gw.gql(GLOBEX_QUERY, undefined, bearer(genuine(globex)))
    expect({ first: [first.status, first.body], rest, forgedCalls, genuine: [res.status, res.body] }).toEqual({
      first: [401, { data: null, errors: [{ message: UNKNOWN_KEY, extensions: { code: 'UNAUTHENTICATED', requestId: 'req-forged', upstream: { status: 401 } } }] }],
      rest: Array(9).fill(401),
      forgedCalls: Array(10).fill(401),
      genuine: [200, GLOBEX_ANSWER]
    })
    expect(gw.emulator.calls().map((c) => `${c.path} ${c.apiKey} ${c.status}`)).toEqual([`/api/v1/dataset/${SEED.datasets.secondaryReady} ${globex.apiKey} 200`])
  })
})

describe('forged tokens past their allowance (RATE_LIMIT_UNPROVEN_PER_MINUTE=5)', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway({ AUTH_MODE: 'passthrough', RATE_LIMIT_PER_MINUTE: '5', RATE_LIMIT_UNPROVEN_PER_MINUTE: '5' }) })
  afterAll(async () => { await gw.close() })

  it('are refused before any call; a new token of an account Visual Layer accepted here still gets through, over HTTP and WebSocket', async () => {
    // Acme's first token, unproven, from this address: the address' unproven allowance, 1 of 5.
    const first = genuine(acme)
    expect((await gw.gql(ACME_QUERY, undefined, bearer(first))).body).toEqual(ACME_ANSWER)
    gw.emulator.clearCalls()

    // Ten forged tokens of made-up keys: four more fit in the address' allowance, each refused by Visual
    // Layer (one call each); the other six are refused here, with no call.
    expect(await statuses(gw, Array.from({ length: 10 }, () => forged()))).toEqual([...Array(4).fill(401), ...Array(6).fill(429)])
    expect(gw.emulator.calls().map((c) => c.status)).toEqual(Array(4).fill(401))
    gw.emulator.clearCalls()
    const refused = await gw.gql(ACME_QUERY, undefined, { ...bearer(forged()), 'x-request-id': 'req-unproven' })
    expect([refused.status, refused.body]).toEqual([429, {
      data: null,
      errors: [{
        message: `Too many requests with tokens Visual Layer has not accepted yet: at most 5 a minute from one address, or for one API key once a token of it was accepted. Try again in ${tryAgainIn(refused.headers.get('retry-after'))}.`,
        extensions: { code: 'RATE_LIMITED', requestId: 'req-unproven' }
      }]
    }])

    // Acme's next token counts against acme's own allowance of unproven tokens: it is answered.
    const next = await gw.gql(ACME_QUERY, undefined, bearer(genuine(acme)))
    expect([next.status, next.body]).toEqual([200, ACME_ANSWER])
    const ws = wsClient(gw.url, { Authorization: `Bearer ${genuine(acme)}` })
    try {
      const sub = record(ws, ACME_QUERY)
      await sub.done
      expect(sub.events).toEqual([ACME_ANSWER])
    } finally {
      await ws.dispose()
    }
    expect(gw.emulator.calls().map((c) => `${c.apiKey} ${c.status}`)).toEqual([`${acme.apiKey} 200`, `${acme.apiKey} 200`])
    gw.emulator.clearCalls()

    // Forged tokens that copy acme's key are bounded by acme's allowance (1 of 5 used above over HTTP;
    // the WebSocket door counts apart): four reach Visual Layer, the rest are refused here.
    expect(await statuses(gw, Array.from({ length: 6 }, () => forged(acme.apiKey)))).toEqual([...Array(4).fill(401), ...Array(2).fill(429)])
    expect(gw.emulator.calls().map((c) => `${c.apiKey} ${c.status}`)).toEqual(Array(4).fill(`${acme.apiKey} 401`))
    gw.emulator.clearCalls()

    // The proven token keeps its account's allowance of requests, untouched by all of the above.
    expect((await gw.gql(ACME_QUERY, undefined, bearer(first))).body).toEqual(ACME_ANSWER)
    // What remains: a token of an account never accepted here shares its address' allowance, used up by the forgeries.
    expect((await gw.gql(GLOBEX_QUERY, undefined, bearer(genuine(globex)))).status).toBe(429)
    expect(gw.emulator.calls().map((c) => `${c.apiKey} ${c.status}`)).toEqual([`${acme.apiKey} 200`])
  })
})
