import { createDecoder, createVerifier } from 'fast-jwt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import { ServiceTokens } from '../../src/upstream/token.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'

describe('service-account tokens', () => {
  it('are signed exactly as Visual Layer documents: HS256, kid = sub = key, iss "sdk", iat, exp', () => {
    const now = Date.parse('2026-03-02T12:00:00Z')
    const tokens = new ServiceTokens({ apiKey: 'key-1', apiSecret: 'secret-1', now: () => now })
    const token = tokens.token()
    const decoded = createDecoder({ complete: true })(token) as { header: unknown, payload: unknown }
    expect(decoded.header).toEqual({ alg: 'HS256', typ: 'JWT', kid: 'key-1' })
    expect(decoded.payload).toEqual({ sub: 'key-1', iss: 'sdk', iat: now / 1000, exp: now / 1000 + 600 })
    expect(createVerifier({ key: 'secret-1', algorithms: ['HS256'], clockTimestamp: now })(token)).toEqual(decoded.payload)
  })

  it('reuse one token until a minute before it expires, then mint a new one', () => {
    let now = Date.parse('2026-03-02T12:00:00Z')
    const tokens = new ServiceTokens({ apiKey: 'key-1', apiSecret: 'secret-1', now: () => now })
    const first = tokens.token()
    now += 8 * 60_000
    expect(tokens.token()).toBe(first)
    now += 60_000 + 1
    const second = tokens.token()
    expect(second).not.toBe(first)
    tokens.invalidate(second)
    now += 1000
    expect(tokens.token()).not.toBe(second)
  })
})

describe('a service token Visual Layer refuses', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway() })
  afterAll(async () => { await gw.close() })
  const query = `{ dataset(id: "${SEED.datasets.ready}") { displayName } }`

  it('makes the gateway mint its token anew and retry once, and the call answers', async () => {
    gw.emulator.reset()
    await gw.gql(query)
    gw.emulator.clearCalls()
    gw.emulator.injectFault({ path: `/api/v1/dataset/${SEED.datasets.ready}`, status: 401, body: { detail: 'Token has expired' } })
    expect((await gw.gql(query)).body).toEqual({ data: { dataset: { displayName: 'Product Images Q1' } } })
    expect(gw.emulator.calls().map((c) => c.status)).toEqual([401, 200])
  })

  it('twice is UPSTREAM_ERROR saying the service account was refused, not the caller', async () => {
    gw.emulator.reset()
    gw.emulator.injectFault({ path: `/api/v1/dataset/${SEED.datasets.ready}`, status: 401, body: { detail: 'Invalid API key' }, times: 2 })
    const res = await gw.gql(query, undefined, { 'x-request-id': 'req-401' })
    expect(res.body).toEqual({
      data: { dataset: null },
      errors: [{
        message: 'Visual Layer refused the gateway\'s service account (HTTP 401); the caller is not at fault. Check VL_API_KEY and VL_API_SECRET.',
        locations: [{ line: 1, column: 3 }],
        path: ['dataset'],
        extensions: { code: 'UPSTREAM_ERROR', requestId: 'req-401', upstream: { status: 401 } }
      }]
    })
    expect(gw.emulator.calls().map((c) => c.status)).toEqual([401, 401])
    expect(gw.logs.text()).not.toContain('Bearer ')
  })
})
