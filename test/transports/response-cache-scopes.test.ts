import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { DEMO_ACCOUNTS, SEED } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { AUTH_MODES, freshToken, inTokenModes, startModeGateway } from '../helpers/modes.js'

/**
 * The response cache by credential scope (src/auth/scope.ts), in every auth mode: a kept answer goes
 * to callers of its scope only (none and jwt: the service account's, every caller; passthrough: the
 * Visual Layer account of a token Visual Layer accepted, a token not yet accepted its own), and a
 * request answered from it is authenticated first, as any other.
 */

const LIST = 'query List { datasets { id } }'
const PRIMARY = [
  SEED.datasets.draft, SEED.datasets.indexing, SEED.datasets.partialIndex, SEED.datasets.readOnly, SEED.datasets.aborted, SEED.datasets.error,
  SEED.datasets.enriched, SEED.datasets.enrichedSource, SEED.datasets.readySecond, SEED.datasets.ready
]

describe.each(AUTH_MODES)('the response cache by credential scope (AUTH_MODE=%s)', (mode) => {
  let gw: TestGateway
  let now = 0
  const list = async (token: string | null): Promise<{ status: number, body: { data?: { datasets: Array<{ id: string }> }, errors?: Array<{ extensions: { code: string } }> } }> => {
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
      body: JSON.stringify({ query: LIST })
    })
    return { status: res.status, body: await res.json() as never }
  }
  const listCalls = (): number => gw.emulator.calls({ method: 'GET', path: '/api/v1/datasets' }).length
  const cachedLines = (): number => gw.logs.entries().filter((line) => (line.operation as { cached?: boolean } | undefined)?.cached === true).length

  beforeAll(async () => { gw = await startModeGateway(mode, { RESPONSE_CACHE_TTL_MS: '2000' }, { responseCacheClock: () => now }) })
  afterAll(async () => { await gw.close() })
  beforeEach(() => {
    now += 2_000
    gw.emulator.reset()
    gw.logs.clear()
  })

  it('gives a kept answer to callers of its scope only', async () => {
    const first = await list(freshToken(mode))
    expect(first.status).toBe(200)
    const ids = first.body.data?.datasets.map((dataset) => dataset.id).sort()
    expect(ids).toEqual([...PRIMARY].sort())
    expect(await list(freshToken(mode, { subject: 'another-user' }))).toEqual(first)
    if (mode === 'passthrough') {
      // A second token of the account was not accepted yet: its own scope, its own execution; then it is the account's.
      expect([listCalls(), cachedLines()]).toEqual([2, 0])
      const secondary = await list(freshToken(mode, { account: DEMO_ACCOUNTS.secondary }))
      expect(secondary.body.data?.datasets.map((dataset) => dataset.id).sort())
        .toEqual([SEED.datasets.secondaryAccount, SEED.datasets.secondaryError, SEED.datasets.secondaryReady].sort())
      expect(await list(freshToken(mode, { account: DEMO_ACCOUNTS.secondary }))).toEqual(secondary)
      expect(listCalls()).toBe(4)
      return
    }
    // none and jwt: every caller's upstream calls use the service account, one scope.
    expect([listCalls(), cachedLines()]).toEqual([1, 1])
  })

  inTokenModes(mode)('authenticates a request before answering it from the cache', async () => {
    const token = freshToken(mode)
    expect((await list(token)).status).toBe(200)
    const refused = await list('not-a-token')
    expect([refused.status, refused.body.errors?.map((error) => error.extensions.code), refused.body.data ?? null]).toEqual([401, ['UNAUTHENTICATED'], null])
    const expired = await list(freshToken(mode, { ttlSec: -60 }))
    expect([expired.status, expired.body.errors?.map((error) => error.extensions.code)]).toEqual([401, ['UNAUTHENTICATED']])
    expect([listCalls(), cachedLines()]).toEqual([1, 0])
    expect((await list(token)).status).toBe(200)
    expect([listCalls(), cachedLines()]).toEqual([1, 1])
  })
})

describe('the response cache and the rate limit', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway({ RESPONSE_CACHE_TTL_MS: '2000', RATE_LIMIT_PER_MINUTE: '2' }, { responseCacheClock: () => 0 }) })
  afterAll(async () => { await gw.close() })

  it('counts a request answered from the cache against the caller\'s allowance, and refuses it past the limit', async () => {
    const ask = async (): Promise<[number, string | null, unknown]> => {
      const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: LIST }) })
      const body = await res.json() as { data?: unknown, errors?: Array<{ extensions: { code: string } }> }
      return [res.status, res.headers.get('x-ratelimit-remaining'), body.errors?.map((error) => error.extensions.code) ?? 'data']
    }
    expect(await ask()).toEqual([200, '1', 'data'])
    expect(await ask()).toEqual([200, '0', 'data'])
    expect(await ask()).toEqual([429, '0', ['RATE_LIMITED']])
    expect(gw.emulator.calls({ method: 'GET', path: '/api/v1/datasets' }).length).toBe(1)
  })
})
