import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { DEMO_ACCOUNTS, SEED } from '../src/emulator/index.js'
import { startTestGateway, type TestGateway } from './helpers/gateway.js'
import { visualLayerToken } from './helpers/tokens.js'
import { tryAgainIn } from './helpers/rate-limits.js'

describe('health', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway({ READY_CACHE_MS: '60000' }) })
  afterAll(async () => { await gw.close() })
  beforeEach(() => { gw.emulator.reset() })

  it('answers liveness without calling Visual Layer', async () => {
    const res = await fetch(`${gw.url}/health/live`)
    expect([res.status, await res.json()]).toEqual([200, { status: 'live' }])
    expect(gw.emulator.calls()).toEqual([])
  })

  it('answers readiness from one health check of Visual Layer, however many probes come', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, async () => {
      const res = await fetch(`${gw.url}/health/ready`)
      return [res.status, await res.json()]
    }))
    for (const answer of answers) expect(answer).toEqual([200, { status: 'ready', upstream: { status: 'Green', version: '2.42.190' } }])
    const res = await fetch(`${gw.url}/health/ready`)
    expect(res.status).toBe(200)
    expect(gw.emulator.calls().map((c) => `${c.method} ${c.path} ${c.apiKey}`)).toEqual(['GET /api/v1/healthcheck null'])
  })
})

describe('readiness when Visual Layer fails', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway({ READY_CACHE_MS: '0', UPSTREAM_TIMEOUT_MS: '500' }) })
  afterAll(async () => { await gw.close() })

  it.each([
    ['answers 500', { status: 500, body: { detail: 'boom' } }, 'UPSTREAM_ERROR'],
    ['drops the connection', { drop: true }, 'UPSTREAM_UNAVAILABLE'],
    ['does not answer in time', { delayMs: 2000 }, 'UPSTREAM_TIMEOUT']
  ])('is 503 when Visual Layer %s, and ready again after', async (_name, fault, code) => {
    gw.emulator.injectFault({ path: '/api/v1/healthcheck', ...fault })
    const down = await fetch(`${gw.url}/health/ready`)
    expect([down.status, await down.json()]).toEqual([503, { status: 'unavailable', reason: 'Visual Layer did not answer its health check', code }])
    const up = await fetch(`${gw.url}/health/ready`)
    expect(up.status).toBe(200)
  })
})

describe('request ids and logs', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway({ AUTH_MODE: 'passthrough' }) })
  afterAll(async () => { await gw.close() })

  it('returns the caller\'s x-request-id, sends it upstream and logs the request under it', async () => {
    const token = visualLayerToken(DEMO_ACCOUNTS.primary)
    const res = await gw.gql('{ datasets { id } }', undefined, { authorization: `Bearer ${token}`, 'x-request-id': 'frontend-42' })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-request-id')).toBe('frontend-42')
    expect(gw.emulator.calls().filter((c) => c.path === '/api/v1/datasets').map((c) => c.requestId)).toEqual(['frontend-42'])
    const lines = gw.logs.entries().filter((e) => e.requestId === 'frontend-42')
    expect(lines.map((e) => e.msg)).toEqual(expect.arrayContaining(['incoming request', 'request completed']))
  })

  it('generates a UUID when the caller sends none, or one unsafe to log', async () => {
    const none = await fetch(`${gw.url}/health/live`)
    const unsafe = await fetch(`${gw.url}/health/live`, { headers: { 'x-request-id': 'evil\tid {"level":60}' } })
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
    expect(none.headers.get('x-request-id')).toMatch(uuid)
    expect(unsafe.headers.get('x-request-id')).toMatch(uuid)
    expect(none.headers.get('x-request-id')).not.toBe(unsafe.headers.get('x-request-id'))
  })

  it('writes pino JSON lines that never contain a token, a secret or a Bearer string', async () => {
    const token = visualLayerToken(DEMO_ACCOUNTS.primary)
    const foreign = visualLayerToken({ apiKey: DEMO_ACCOUNTS.primary.apiKey, apiSecret: 'forged-secret' })
    await gw.gql('{ datasets { id } }', undefined, { authorization: `Bearer ${token}` })
    await gw.gql('{ datasets { id } }', undefined, { authorization: `Bearer ${foreign}` })
    await gw.gql('{ datasets { id } }', undefined, { authorization: 'Bearer not-a-jwt' })
    await fetch(`${gw.url}/graphql?query=${encodeURIComponent('{ datasets { id } }')}&token=${token}`, { headers: { authorization: `Bearer ${token}` } })
    const text = gw.logs.text()
    for (const line of text.trim().split('\n')) expect(() => JSON.parse(line) as unknown).not.toThrow()
    expect(text).not.toContain(token)
    expect(text).not.toContain(foreign)
    expect(text).not.toContain('not-a-jwt')
    expect(text).not.toContain(DEMO_ACCOUNTS.primary.apiSecret)
    expect(text).not.toContain('Bearer ')
    expect(text).toContain('"reason":"malformed"')
    expect(text.length).toBeGreaterThan(1000)
  })
})

describe('CORS', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway({ CORS_ORIGINS: 'https://app.example.com' }) })
  afterAll(async () => { await gw.close() })

  it('answers a preflight from an allowed origin, with the headers a GraphQL client sends', async () => {
    const res = await fetch(`${gw.url}/graphql`, { method: 'OPTIONS', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } })
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example.com')
    expect(res.headers.get('access-control-allow-headers')).toBe(
      'authorization, content-type, x-request-id, x-graphql-event-stream-token, graphql-preflight, apollo-require-preflight, x-apollo-operation-name, x-gateway-cost, ' +
      'idempotency-key, if-none-match, last-event-id, traceparent, tracestate, apollographql-client-name, apollographql-client-version'
    )
    expect(gw.emulator.calls()).toEqual([])
  })

  it('answers the preflights of an SSE single-connection stream (PUT to reserve it, DELETE to stop an operation, its token header)', async () => {
    for (const method of ['PUT', 'DELETE']) {
      const res = await fetch(`${gw.url}/graphql/stream`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example.com', 'access-control-request-method': method, 'access-control-request-headers': 'authorization,x-graphql-event-stream-token' }
      })
      expect([res.status, res.headers.get('access-control-allow-origin'), res.headers.get('access-control-allow-methods')])
        .toEqual([204, 'https://app.example.com', 'GET, POST, PUT, DELETE'])
    }
    expect(gw.emulator.calls()).toEqual([])
  })

  it('lets the browser read the answer and the request id from an allowed origin only', async () => {
    const allowed = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { origin: 'https://app.example.com', 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) })
    expect([allowed.headers.get('access-control-allow-origin'), allowed.headers.get('access-control-expose-headers')])
      .toEqual(['https://app.example.com', 'x-request-id, etag, link, location, retry-after'])
    // REST: the same, its headers included (a preflight for the Idempotency-Key, then the answer's Location).
    const preflight = await fetch(`${gw.url}/v1/datasets/${SEED.datasets.ready}/enrichments`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,idempotency-key' }
    })
    expect([preflight.status, preflight.headers.get('access-control-allow-origin')]).toEqual([204, 'https://app.example.com'])
    const rest = await fetch(`${gw.url}/v1/tasks?pageSize=5`, { headers: { origin: 'https://app.example.com' } })
    expect([rest.status, rest.headers.get('access-control-allow-origin'), rest.headers.get('access-control-expose-headers')])
      .toEqual([200, 'https://app.example.com', 'x-request-id, etag, link, location, retry-after'])
    const other = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) })
    expect(other.headers.get('access-control-allow-origin')).toBeNull()
  })
})

describe('malformed requests', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway() })
  afterAll(async () => { await gw.close() })
  const post = async (body: string, contentType = 'application/json'): Promise<[number, unknown]> => {
    const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': contentType, 'x-request-id': 'req-bad' }, body })
    return [res.status, await res.json()]
  }

  it('answers a body that is not JSON with 400 QUERY_REJECTED saying so', async () => {
    expect(await post('{bad')).toEqual([400, { data: null, errors: [{ message: 'Body is not valid JSON but content-type is set to \'application/json\'', extensions: { code: 'QUERY_REJECTED', requestId: 'req-bad' } }] }])
  })

  it('answers a body over the size limit with 413 QUERY_REJECTED', async () => {
    const [status, body] = await post(JSON.stringify({ query: `{ __typename } # ${'x'.repeat(1_100_000)}` }))
    expect([status, (body as { errors: Array<{ extensions: unknown }> }).errors[0]?.extensions]).toEqual([413, { code: 'QUERY_REJECTED', requestId: 'req-bad' }])
  })

  it('refuses a mutation sent by GET with 405 QUERY_REJECTED saying why, and sends nothing', async () => {
    const res = await fetch(`${gw.url}/graphql?query=${encodeURIComponent(`mutation { abortTask(taskId: "${SEED.tasks.indexingCreation}") { id } }`)}`, { headers: { 'x-request-id': 'req-get', 'graphql-preflight': '1' } })
    expect([res.status, await res.json()]).toEqual([405, { data: null, errors: [{ message: 'Operation cannot be performed via a GET request', extensions: { code: 'QUERY_REJECTED', requestId: 'req-get' } }] }])
    expect(gw.emulator.calls()).toEqual([])
  })

  it('answers a body without a query with 400 QUERY_REJECTED', async () => {
    const [status, body] = await post(JSON.stringify({ variables: {} }))
    expect([status, (body as { errors: Array<{ extensions: unknown }> }).errors[0]?.extensions]).toEqual([400, { code: 'QUERY_REJECTED', requestId: 'req-bad' }])
    expect(gw.emulator.calls()).toEqual([])
  })
})

describe('rate limit per caller', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway({ AUTH_MODE: 'passthrough', RATE_LIMIT_PER_MINUTE: '3' }) })
  afterAll(async () => { await gw.close() })

  it('answers a caller over its allowance with 429 RATE_LIMITED and Retry-After, and leaves other callers alone', async () => {
    const acme = { authorization: `Bearer ${visualLayerToken(DEMO_ACCOUNTS.primary)}` }
    const globex = { authorization: `Bearer ${visualLayerToken(DEMO_ACCOUNTS.secondary)}` }
    // The first request proves the token; from then on it counts against its API key, three a minute.
    for (let i = 0; i < 4; i++) expect((await gw.gql('{ datasets { id } }', undefined, acme)).status).toBe(200)
    gw.emulator.clearCalls()
    const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { ...acme, 'content-type': 'application/json', 'x-request-id': 'req-many' }, body: JSON.stringify({ query: '{ datasets { id } }' }) })
    expect(res.status).toBe(429)
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(await res.json()).toEqual({ data: null, errors: [{ message: `Too many requests: at most 3 a minute for each caller. Try again in ${tryAgainIn(res.headers.get('retry-after'))}.`, extensions: { code: 'RATE_LIMITED', requestId: 'req-many' } }] })
    expect(gw.emulator.calls()).toEqual([])
    expect((await gw.gql('{ datasets { id } }', undefined, globex)).status).toBe(200)
    expect((await fetch(`${gw.url}/health/live`)).status).toBe(200)
  })
})
