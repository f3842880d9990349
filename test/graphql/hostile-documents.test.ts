import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_ACCOUNTS } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { visualLayerToken } from '../helpers/tokens.js'
import { record, wsClient } from '../helpers/ws.js'

/**
 * Documents an attacker would send, each refused quickly, with QUERY_REJECTED (or UNAUTHENTICATED
 * for a caller without a token), no upstream call, no internal error and bounded memory. In
 * passthrough a token of the right shape with a wrong signature is all it takes to be parsed.
 */

/** `levels` fragments, each spreading the next twice: 2^levels fields once spreads are expanded. */
function doublingFragments (levels: number): string {
  const fragments = Array.from({ length: levels }, (_, i) => i === levels - 1
    ? `fragment F${i} on Dataset { id }`
    : `fragment F${i} on Dataset { id ...F${i + 1} ...F${i + 1} }`)
  return `query { datasets { ...F0 } } ${fragments.join(' ')}`
}

const FORGED = `Bearer ${visualLayerToken({ apiKey: DEMO_ACCOUNTS.primary.apiKey, apiSecret: 'not-the-secret-of-this-account' })}`
const FIELDS_MESSAGE = 'The document selects more than 500 fields, the most this gateway accepts. Split it into several requests.'

describe('passthrough, with a forged token', () => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startTestGateway({ AUTH_MODE: 'passthrough' })
    // The first document of a process pays for V8 compiling the parser and rules.
    await gw.gql('{ __typename }', undefined, { authorization: FORGED })
  })
  afterAll(async () => { await gw.close() })

  it.each([30, 40])('refuses %i levels of fragments spread twice in milliseconds over HTTP, while /health/live answers', async (levels) => {
    const started = performance.now()
    const [res, live] = await Promise.all([
      gw.gql(doublingFragments(levels), undefined, { authorization: FORGED, 'x-request-id': `req-${levels}` }),
      fetch(`${gw.url}/health/live`)
    ])
    const elapsed = performance.now() - started
    expect([res.status, res.body]).toEqual([400, {
      data: null,
      errors: [{ message: FIELDS_MESSAGE, locations: [{ line: 1, column: 1 }], extensions: { code: 'QUERY_REJECTED', requestId: `req-${levels}` } }]
    }])
    expect(live.status).toBe(200)
    expect(elapsed).toBeLessThan(100)
    expect(gw.emulator.calls()).toEqual([])
  })

  it.each([30, 40])('refuses %i levels of fragments spread twice in milliseconds over WebSocket', async (levels) => {
    const client = wsClient(gw.url, { Authorization: FORGED })
    try {
      const started = performance.now()
      const sub = record(client, doublingFragments(levels))
      const refusal = await sub.done.then(() => null, (errors: unknown) => errors)
      const elapsed = performance.now() - started
      expect(refusal).toEqual([{ message: FIELDS_MESSAGE, locations: [{ line: 1, column: 1 }], extensions: { code: 'QUERY_REJECTED', requestId: expect.stringMatching(/:/) as unknown } }])
      expect(elapsed).toBeLessThan(100)
      expect(gw.emulator.calls()).toEqual([])
    } finally {
      await client.dispose()
    }
  })
})
