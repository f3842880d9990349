import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DEMO_ACCOUNTS, SEED } from '../../src/emulator/index.js'
import { Breakers } from '../../src/upstream/breakers.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { visualLayerToken } from '../helpers/tokens.js'

/**
 * Issue 22, item 9: one circuit breaker for all tenants let one caller's slow resources refuse every
 * caller (five timeouts on one account's dataset made another account's `{ datasets }` fail fast).
 * A breaker now says what failed: one per (account, route) opens on that pair's failures alone, and
 * the shared one, which refuses everyone, opens only when failures in a row span several accounts (or
 * the service account or the health check, which concern everyone). The emulator holds the calls
 * (delay faults); the gateway's deadline (UPSTREAM_TIMEOUT_MS=200) ends them.
 */

const globex = DEMO_ACCOUNTS.secondary
const acme = DEMO_ACCOUNTS.primary
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })
const slowPath = `/api/v1/dataset/${SEED.datasets.secondaryReady}`
const GLOBEX_DATASET = `{ dataset(id: "${SEED.datasets.secondaryReady}") { displayName } }`
const ACME_DATASETS = '{ datasets { displayName } }'
const ACME_ANSWER = {
  data: {
    datasets: [
      'Drone Survey March', 'Customer Uploads April', 'Medical Scans Batch 7', 'Holiday Campaign 2025', 'Warehouse Inspection',
      'Retail Shelf Photos (enriched)', 'Street Scenes 2025', 'Retail Shelf Photos', 'Training Set v2', 'Product Images Q1'
    ].map((displayName) => ({ displayName }))
  }
}
const timedOut = (what: string): string => `Visual Layer did not answer in time for ${what}. Try again shortly.`
const failingForYou = (what: string): string =>
  `Visual Layer has been failing for your requests of this kind, so the gateway is not sending them for about 60 s; nothing was sent for ${what}. Try again shortly.`
const failingFast = (what: string): string => `Visual Layer has been failing, so the gateway is not calling it for about 60 s; nothing was sent for ${what}. Try again shortly.`

describe('circuit breakers per account and route (issue 22, item 9)', () => {
  let gw: TestGateway
  const globexToken = visualLayerToken(globex, { jti: 'globex' })
  const acmeToken = visualLayerToken(acme, { jti: 'acme' })
  // A gateway each: each case starts with every breaker closed.
  beforeEach(async () => {
    gw = await startTestGateway({ AUTH_MODE: 'passthrough', UPSTREAM_RETRIES: '0', BREAKER_THRESHOLD: '5', BREAKER_COOLDOWN_MS: '60000', UPSTREAM_TIMEOUT_MS: '200' })
  })
  afterEach(async () => { await gw.close() })

  it('five timeouts on one account\'s dataset fail that account\'s reads of it fast, and leave the other account answered', async () => {
    gw.emulator.injectFault({ path: slowPath, delayMs: 30_000, times: 5 })
    const what = `dataset ${SEED.datasets.secondaryReady}`
    const errorsOf = async (): Promise<unknown> => (await gw.gql(GLOBEX_DATASET, undefined, bearer(globexToken))).body.errors?.map((e) => [e.extensions?.code, e.message])
    for (let i = 0; i < 5; i++) expect(await errorsOf()).toEqual([['UPSTREAM_TIMEOUT', timedOut(what)]])
    // That account's next read of that route is refused without a call.
    expect(await errorsOf()).toEqual([['UPSTREAM_UNAVAILABLE', failingForYou(what)]])
    expect(gw.emulator.calls().map((c) => `${c.path} ${c.apiKey} ${c.status}`)).toEqual(Array(5).fill(`${slowPath} ${globex.apiKey} 0`))
    gw.emulator.clearCalls()

    // The other account, thirty times over: every answer real, every one its own call.
    for (let i = 0; i < 30; i++) {
      const res = await gw.gql(ACME_DATASETS, undefined, bearer(acmeToken))
      expect([i, res.status, res.body]).toEqual([i, 200, ACME_ANSWER])
    }
    expect(gw.emulator.calls().map((c) => `${c.path} ${c.apiKey} ${c.status}`)).toEqual(Array(30).fill(`/api/v1/datasets ${acme.apiKey} 200`))
    const ready = await fetch(`${gw.url}/health/ready`)
    expect(ready.status).toBe(200)
    const metrics = (await gw.app.metrics.registry.metrics()).split('\n')
    expect(metrics.filter((line) => /^vlgw_upstream_(scoped_breakers_open|breaker_state) /.test(line))).toEqual([
      'vlgw_upstream_breaker_state 0',
      'vlgw_upstream_scoped_breakers_open 1'
    ])
  })

  it('a real outage, failures in a row from both accounts, opens the shared breaker: then everyone fails fast', async () => {
    gw.emulator.injectFault({ path: '/api/v1/**', delayMs: 30_000, times: 5 })
    for (let i = 0; i < 3; i++) await gw.gql('{ tasks { total } }', undefined, bearer(globexToken))
    for (let i = 0; i < 2; i++) await gw.gql('{ datasets { id } }', undefined, bearer(acmeToken))
    expect(gw.emulator.calls().map((c) => `${c.path} ${c.apiKey} ${c.status}`)).toEqual([
      ...Array(3).fill(`/api/v1/tasks ${globex.apiKey} 0`),
      ...Array(2).fill(`/api/v1/datasets ${acme.apiKey} 0`)
    ])
    gw.emulator.clearCalls()
    const res = await gw.gql('{ taskFilterOptions { taskTypes } }', undefined, bearer(acmeToken))
    expect(res.body.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['UPSTREAM_UNAVAILABLE', failingFast('the task filter options')]])
    expect((await fetch(`${gw.url}/health/ready`)).status).toBe(503)
    expect(gw.emulator.calls()).toEqual([])
  })
})

describe('Breakers', () => {
  const settings = { threshold: 3, cooldownMs: 1000, maxScoped: 4, spreadPrincipals: 2 }
  const fail = (breakers: Breakers, principal: string, route = 'GET /a'): void => {
    const admission = breakers.admit(principal, route)
    if (!admission.admitted) throw new Error(`refused ${principal} ${route}`)
    admission.verdict('failed')
  }
  const refusal = (breakers: Breakers, principal: string, route = 'GET /a'): unknown => {
    const admission = breakers.admit(principal, route)
    if (admission.admitted) { admission.verdict('released'); return 'admitted' }
    return { scoped: admission.scoped, retryInMs: admission.retryInMs }
  }

  it('opens one account\'s breaker per route on its failures alone; the shared one stays closed, however many routes fail', () => {
    const now = 0
    const breakers = new Breakers(settings, () => now)
    for (const route of ['GET /a', 'GET /b', 'GET /c']) for (let i = 0; i < 3; i++) fail(breakers, 'sub:a', route)
    expect([breakers.state, breakers.scopedOpen, refusal(breakers, 'sub:a', 'GET /b'), refusal(breakers, 'sub:b', 'GET /b')])
      .toEqual(['closed', 3, { scoped: true, retryInMs: 1000 }, 'admitted'])
  })

  it('opens the shared one when failures in a row span two accounts, or include the service account; a success in between resets the count', () => {
    let now = 0
    const spread = new Breakers(settings, () => now)
    fail(spread, 'sub:a')
    fail(spread, 'sub:a')
    const ok = spread.admit('sub:b', 'GET /b')
    if (ok.admitted) ok.verdict('succeeded')
    fail(spread, 'sub:a', 'GET /c')
    fail(spread, 'sub:b', 'GET /c')
    expect(spread.state).toBe('closed')
    fail(spread, 'sub:b', 'GET /d')
    expect([spread.state, refusal(spread, 'sub:c', 'GET /z')]).toEqual(['open', { scoped: false, retryInMs: 1000 }])
    // After the cooldown, one probe; its failure opens it again.
    now = 1000
    expect(spread.state).toBe('half-open')
    fail(spread, 'sub:c', 'GET /z')
    expect(spread.state).toBe('open')

    const service = new Breakers(settings, () => now)
    for (const route of ['GET /a', 'GET /b', 'GET /c']) fail(service, 'service', route)
    expect(service.state).toBe('open')
  })

  it('keeps at most maxScoped breakers, least recently used first out', () => {
    const breakers = new Breakers(settings, () => 0)
    for (let i = 0; i < 3; i++) fail(breakers, 'sub:a')
    for (const route of ['GET /1', 'GET /2', 'GET /3', 'GET /4']) refusal(breakers, 'sub:b', route)
    expect([breakers.scopedCount, breakers.scopedOpen, refusal(breakers, 'sub:a')]).toEqual([4, 0, 'admitted'])
  })
})
