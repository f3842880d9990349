import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { DEMO_ACCOUNTS, SEED } from '../../src/emulator/index.js'
import { CircuitBreaker } from '../../src/upstream/circuit-breaker.js'
import { backoffMs, retryAfterMs, RetryBudget } from '../../src/upstream/retry-policy.js'
import { startTestGateway, type GraphQLResponse, type TestGateway } from '../helpers/gateway.js'
import { freshToken, startModeGateway } from '../helpers/modes.js'

const path = `/api/v1/dataset/${SEED.datasets.ready}`
const query = `{ dataset(id: "${SEED.datasets.ready}") { displayName } }`
const ok = { data: { dataset: { displayName: 'Product Images Q1' } } }

describe('GET retries against the emulator', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway({ UPSTREAM_RETRIES: '2', UPSTREAM_TIMEOUT_MS: '3000' }) })
  afterAll(async () => { await gw.close() })
  beforeEach(() => { gw.emulator.reset() })
  const statuses = (): number[] => gw.emulator.calls().filter((c) => c.path === path).map((c) => c.status)

  it.each([
    ['503', { status: 503 }, 503],
    ['502', { status: 502 }, 502],
    ['504', { status: 504 }, 504],
    ['429', { status: 429 }, 429],
    ['a dropped connection', { drop: true }, 0]
  ])('retries a GET after %s and answers', async (_name, fault, first) => {
    gw.emulator.injectFault({ path, ...fault })
    expect((await gw.gql(query)).body).toEqual(ok)
    expect(statuses()).toEqual([first, 200])
  })

  it.each([['500', 500], ['404', 404], ['400', 400], ['409', 409]])('does not retry %s', async (_name, status) => {
    gw.emulator.injectFault({ path, status })
    await gw.gql(query)
    expect(statuses()).toEqual([status])
  })

  it('gives up after UPSTREAM_RETRIES retries with the last answer', async () => {
    gw.emulator.injectFault({ path, status: 503, times: 5 })
    const res = await gw.gql(query)
    expect(res.body.errors?.map((e) => [e.extensions?.code, e.extensions?.upstream])).toEqual([['UPSTREAM_UNAVAILABLE', { status: 503 }]])
    expect(statuses()).toEqual([503, 503, 503])
  })

  it('honours Retry-After', async () => {
    gw.emulator.injectFault({ path, status: 503, headers: { 'retry-after': '1' } })
    const started = Date.now()
    expect((await gw.gql(query)).body).toEqual(ok)
    expect(Date.now() - started).toBeGreaterThanOrEqual(950)
    expect(statuses()).toEqual([503, 200])
  })

  it('does not wait past the call\'s deadline: a Retry-After longer than what is left ends the call', async () => {
    gw.emulator.injectFault({ path, status: 503, headers: { 'retry-after': '30' } })
    const retried = async (): Promise<number> => (await gw.app.metrics.upstreamRetries.get()).values.reduce((sum, { value }) => sum + value, 0)
    const retriesBefore = await retried()
    const res = await gw.gql(query)
    // Ended with the 503's own error: no retry was scheduled (a retry is counted before its wait begins).
    expect(await retried()).toBe(retriesBefore)
    expect(res.body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE')
    expect(statuses()).toEqual([503])
  })

  it('never retries a POST', async () => {
    gw.emulator.injectFault({ method: 'POST', path: `${path}/enrich_dataset`, status: 503, times: 3 })
    const res = await gw.gql(`mutation { enrichDataset(datasetId: "${SEED.datasets.ready}", models: [{ type: "CAPTION_IMAGES", modelId: "vl_image_captioner_v00" }]) { enrichedDatasetId } }`)
    expect(res.body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE')
    expect(gw.emulator.calls().filter((c) => c.method === 'POST').map((c) => c.status)).toEqual([503])
  })
})

describe('circuit breaker against the emulator', () => {
  let gw: TestGateway
  /** The breakers' clock, moved by the tests (BuildOptions.breakerClock). */
  let clock = 0
  const COOLDOWN_MS = 500
  beforeAll(async () => { gw = await startTestGateway({ UPSTREAM_RETRIES: '0', BREAKER_THRESHOLD: '3', BREAKER_COOLDOWN_MS: String(COOLDOWN_MS) }, { breakerClock: () => clock }) })
  afterAll(async () => { await gw.close() })
  const refusedByBreaker = (res: GraphQLResponse): boolean => res.body.errors?.[0]?.message.startsWith('Visual Layer has been failing') === true
  /** The cooldown passes on the breakers' clock: the next call goes through (as the probe of an open breaker), and this is its answer. */
  const firstAdmitted = async (): Promise<GraphQLResponse> => {
    clock += COOLDOWN_MS
    const res = await gw.gql(query)
    expect(refusedByBreaker(res)).toBe(false)
    return res
  }
  // Each test starts with the breaker closed, whatever the one before left.
  afterEach(async () => { await firstAdmitted() })

  it('fails fast without calling Visual Layer once it failed THRESHOLD times in a row, then probes after the cooldown', async () => {
    gw.emulator.reset()
    gw.emulator.injectFault({ path, status: 503, times: 3 })
    for (let i = 0; i < 3; i++) await gw.gql(query)
    expect(gw.emulator.calls().length).toBe(3)
    const fast = await gw.gql(query, undefined, { 'x-request-id': 'req-open' })
    expect(fast.body).toEqual({
      data: { dataset: null },
      errors: [{
        message: `Visual Layer has been failing, so the gateway is not calling it for about 1 s; nothing was sent for dataset ${SEED.datasets.ready}. Try again shortly.`,
        locations: [{ line: 1, column: 3 }],
        path: ['dataset'],
        extensions: { code: 'UPSTREAM_UNAVAILABLE', requestId: 'req-open' }
      }]
    })
    const ready = await fetch(`${gw.url}/health/ready`)
    expect(ready.status).toBe(503)
    expect(gw.emulator.calls().length).toBe(3)
    // Refused without a call until the cooldown is over; then the probe goes, and closes it.
    clock += COOLDOWN_MS - 1
    expect(refusedByBreaker(await gw.gql(query))).toBe(true)
    clock += 1
    expect((await gw.gql(query)).body).toEqual(ok)
    expect((await gw.gql(query)).body).toEqual(ok)
    expect(gw.emulator.calls().map((c) => c.status)).toEqual([503, 503, 503, 200, 200])
  })

  it('tells a write stopped by the open breaker that nothing was sent', async () => {
    gw.emulator.reset()
    gw.emulator.injectFault({ path: '/api/v1/**', status: 503, times: 3 })
    for (let i = 0; i < 3; i++) await gw.gql(query)
    const res = await gw.gql(`mutation { abortTask(taskId: "${SEED.tasks.indexingCreation}") { id } }`)
    expect(res.body.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([[
      'UPSTREAM_UNAVAILABLE',
      `Visual Layer has been failing, so the gateway is not calling it for about 1 s; nothing was sent for the abort of task ${SEED.tasks.indexingCreation}. Try again shortly.`
    ]])
    expect(gw.emulator.calls().filter((c) => c.method === 'POST')).toEqual([])
  })
})

describe('circuit breaker: only an unavailable Visual Layer counts', () => {
  // Default threshold (5), passthrough: two accounts, each with its own token.
  let gw: TestGateway
  beforeAll(async () => { gw = await startModeGateway('passthrough', { UPSTREAM_RETRIES: '0', BREAKER_THRESHOLD: '5', BREAKER_COOLDOWN_MS: '60000' }) })
  afterAll(async () => { await gw.close() })
  beforeEach(() => { gw.emulator.reset() })
  const primary = { authorization: `Bearer ${freshToken('passthrough', { account: DEMO_ACCOUNTS.primary }) ?? ''}` }
  const secondary = { authorization: `Bearer ${freshToken('passthrough', { account: DEMO_ACCOUNTS.secondary }) ?? ''}` }
  const other = `{ dataset(id: "${SEED.datasets.secondaryReady}") { displayName } }`

  it('five 500s on one dataset\'s path leave another account\'s query, and the same dataset\'s next read, answered', async () => {
    gw.emulator.injectFault({ path, status: 500, times: 5 })
    for (let i = 0; i < 5; i++) {
      const res = await gw.gql(query, undefined, primary)
      expect(res.body.errors?.map((e) => [e.extensions?.code, e.extensions?.upstream])).toEqual([['UPSTREAM_ERROR', { status: 500 }]])
    }
    expect((await gw.gql(other, undefined, secondary)).body).toEqual({ data: { dataset: { displayName: 'Robot Grasp Trials' } } })
    expect((await gw.gql(query, undefined, primary)).body).toEqual(ok)
    expect(gw.emulator.calls().map((c) => c.status)).toEqual([500, 500, 500, 500, 500, 200, 200])
  })

  it('five 503s on one account\'s dataset open that account\'s breaker for it: the other account is still answered (issue 22, item 9)', async () => {
    gw.emulator.injectFault({ path, status: 503, times: 5 })
    for (let i = 0; i < 5; i++) await gw.gql(query, undefined, primary)
    const again = await gw.gql(query, undefined, primary)
    expect(again.body.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([[
      'UPSTREAM_UNAVAILABLE',
      `Visual Layer has been failing for your requests of this kind, so the gateway is not sending them for about 60 s; nothing was sent for dataset ${SEED.datasets.ready}. Try again shortly.`
    ]])
    expect((await gw.gql(other, undefined, secondary)).body).toEqual({ data: { dataset: { displayName: 'Robot Grasp Trials' } } })
    expect(gw.emulator.calls().map((c) => c.status)).toEqual([503, 503, 503, 503, 503, 200])
  })
})

describe('retry policy pieces', () => {
  it('backs off with full jitter, capped', () => {
    const top = (attempt: number): number => backoffMs(attempt, { baseMs: 100, capMs: 2000, random: () => 0.999999 })
    expect([top(0), top(1), top(2), top(5)]).toEqual([99, 199, 399, 1999])
    expect(backoffMs(3, { baseMs: 100, capMs: 2000, random: () => 0 })).toBe(0)
  })

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-03-02T12:00:00Z')
    expect(retryAfterMs('2', now)).toBe(2000)
    expect(retryAfterMs('Mon, 02 Mar 2026 12:00:05 GMT', now)).toBe(5000)
    expect([retryAfterMs(undefined), retryAfterMs('soon'), retryAfterMs('')]).toEqual([null, null, null])
  })

  it('keeps retries within the budget: an allowance plus a share of the calls', () => {
    let now = 0
    const budget = new RetryBudget(0.2, 2, 10_000, () => now)
    for (let i = 0; i < 10; i++) budget.recordCall()
    const granted = Array.from({ length: 10 }, () => budget.tryRetry()).filter(Boolean).length
    expect(granted).toBe(4) // 2 + 0.2 x 10
    now = 10_001
    expect(budget.tryRetry()).toBe(true)
  })

  it('opens after the threshold, admits one probe after the cooldown, and closes on its success', () => {
    let now = 0
    const breaker = new CircuitBreaker(2, 1000, () => now)
    breaker.failed()
    expect(breaker.state).toBe('closed')
    breaker.failed()
    expect([breaker.state, breaker.admit(), breaker.retryInMs]).toEqual(['open', false, 1000])
    now = 1000
    expect([breaker.state, breaker.admit(), breaker.admit()]).toEqual(['half-open', true, false])
    breaker.failed()
    expect(breaker.state).toBe('open')
    now = 2000
    expect(breaker.admit()).toBe(true)
    breaker.succeeded()
    expect([breaker.state, breaker.admit()]).toEqual(['closed', true])
  })
})
