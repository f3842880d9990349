import { createSigner } from 'fast-jwt'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { DEMO_ACCOUNTS, SEED } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { visualLayerToken } from '../helpers/tokens.js'
import { callsArrived, nextCall } from '../helpers/wait.js'

/**
 * The credential-scope rule in passthrough mode, against the emulator's two demo accounts and a
 * forged token: shared upstream calls never cross from one principal to another.
 */

let gw: TestGateway
beforeAll(async () => { gw = await startTestGateway({ AUTH_MODE: 'passthrough' }) })
afterAll(async () => { await gw.close() })
beforeEach(() => { gw.emulator.reset() })

const acme = DEMO_ACCOUNTS.primary
const globex = DEMO_ACCOUNTS.secondary
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })
const query = `{ dataset(id: "${SEED.datasets.ready}") { id displayName } }`
const calls = (): string[] => gw.emulator.calls().map((c) => `${c.method} ${c.path} ${c.apiKey} ${c.status}`)

describe('passthrough credential scopes', () => {
  it('gives each account only its own data, each call carrying that account\'s own token', async () => {
    const acmeToken = visualLayerToken(acme)
    const globexToken = visualLayerToken(globex)
    const answers = await Promise.all(Array.from({ length: 20 }, async (_, i) => await gw.gql(query, undefined, bearer(i % 2 === 0 ? acmeToken : globexToken))))
    answers.forEach((res, i) => {
      expect(res.body).toEqual({ data: { dataset: i % 2 === 0 ? { id: SEED.datasets.ready, displayName: 'Product Images Q1' } : null } })
    })
    const seen = calls()
    expect(seen.filter((c) => c.includes(acme.apiKey)).every((c) => c.endsWith(' 200'))).toBe(true)
    expect(seen.filter((c) => c.includes(globex.apiKey)).every((c) => c.endsWith(' 404'))).toBe(true)
    expect(seen.filter((c) => c.includes(acme.apiKey)).length).toBeGreaterThanOrEqual(1)
    expect(seen.filter((c) => c.includes(globex.apiKey)).length).toBeGreaterThanOrEqual(1)
  })

  it('never answers a forged token that copies a real sub from the genuine token\'s shared call', async () => {
    const genuine = visualLayerToken(acme)
    // Visual Layer accepts the genuine token once: it is now proven for its sub.
    expect((await gw.gql(query, undefined, bearer(genuine))).body).toEqual({ data: { dataset: { id: SEED.datasets.ready, displayName: 'Product Images Q1' } } })
    const forged = createSigner({ key: 'guessed-secret', algorithm: 'HS256', kid: acme.apiKey })({ sub: acme.apiKey, iss: 'sdk', exp: Math.floor(Date.now() / 1000) + 600 })
    gw.emulator.clearCalls()
    // Both requests are in flight together: Visual Layer holds the genuine call open until the forged one is answered.
    gw.emulator.injectFault({ path: `/api/v1/dataset/${SEED.datasets.ready}`, hold: 'genuine' })
    const arrived = nextCall(gw.emulator, { path: `/api/v1/dataset/${SEED.datasets.ready}`, phase: 'arrived' })
    const answered = gw.gql(query, undefined, bearer(genuine))
    await arrived
    const fake = await gw.gql(query, undefined, bearer(forged))
    expect(gw.emulator.release('genuine')).toBe(1)
    const real = await answered
    expect(real.body).toEqual({ data: { dataset: { id: SEED.datasets.ready, displayName: 'Product Images Q1' } } })
    // Visual Layer refused the forged token: answered as the gateway's own refusals are.
    expect(fake.status).toBe(401)
    expect(fake.body.data).toBeNull()
    expect(fake.body.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED'])
    expect(calls().sort()).toEqual([
      `GET /api/v1/dataset/${SEED.datasets.ready} ${acme.apiKey} 200`,
      `GET /api/v1/dataset/${SEED.datasets.ready} ${acme.apiKey} 401`
    ])
  })

  it('lets two tokens of one account share an in-flight call once Visual Layer accepted both', async () => {
    const first = visualLayerToken(acme, { exp: Math.floor(Date.now() / 1000) + 601 })
    const second = visualLayerToken(acme, { exp: Math.floor(Date.now() / 1000) + 602 })
    expect(first).not.toBe(second)
    await gw.gql(query, undefined, bearer(first))
    await gw.gql(query, undefined, bearer(second))
    gw.emulator.clearCalls()
    gw.emulator.injectFault({ path: `/api/v1/dataset/${SEED.datasets.ready}`, delayMs: 300 })
    const answers = await Promise.all([gw.gql(query, undefined, bearer(first)), gw.gql(query, undefined, bearer(second))])
    for (const res of answers) expect(res.body).toEqual({ data: { dataset: { id: SEED.datasets.ready, displayName: 'Product Images Q1' } } })
    expect(calls()).toEqual([`GET /api/v1/dataset/${SEED.datasets.ready} ${acme.apiKey} 200`])
  })

  it('does not share between two unproven tokens of one account', async () => {
    const first = visualLayerToken(acme, { exp: Math.floor(Date.now() / 1000) + 603 })
    const second = visualLayerToken(acme, { exp: Math.floor(Date.now() / 1000) + 604 })
    // Both calls held: the second reaches Visual Layer while the first is still in flight.
    gw.emulator.injectFault({ path: `/api/v1/dataset/${SEED.datasets.ready}`, hold: 'both', times: 2 })
    const arrived = callsArrived(gw.emulator, { path: `/api/v1/dataset/${SEED.datasets.ready}` }, 2)
    const both = Promise.all([gw.gql(query, undefined, bearer(first)), gw.gql(query, undefined, bearer(second))])
    await arrived
    expect(gw.emulator.release('both')).toBe(2)
    await both
    expect(calls()).toEqual([
      `GET /api/v1/dataset/${SEED.datasets.ready} ${acme.apiKey} 200`,
      `GET /api/v1/dataset/${SEED.datasets.ready} ${acme.apiKey} 200`
    ])
  })
})
