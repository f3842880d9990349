import { createHmac } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import type { RunningEmulator } from '../../src/emulator/index.js'
import { call, MINUTE, PRIMARY, SECOND, signToken, START_MS, startTestEmulator } from './helpers.js'

let emulator: RunningEmulator
beforeAll(async () => { emulator = await startTestEmulator() })
afterAll(async () => { await emulator.close() })
beforeEach(() => { emulator.reset() })

const path = `/api/v1/dataset/${SEED.datasets.ready}`
const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

/** Builds a JWT by hand, for shapes fast-jwt's signer refuses to produce. */
function handMadeToken (header: Record<string, unknown>, payload: Record<string, unknown>, secret: string | null): string {
  const input = `${base64url(header)}.${base64url(payload)}`
  const signature = secret === null ? '' : createHmac('sha256', secret).update(input).digest('base64url')
  return `${input}.${signature}`
}

const nowSeconds = Math.floor(START_MS / 1000)
const goodClaims = { sub: PRIMARY.apiKey, iss: 'sdk', iat: nowSeconds, exp: nowSeconds + 600 }

async function expect401 (options: Parameters<typeof call>[2], detail: string): Promise<void> {
  const answer = await call(emulator, path, options)
  expect(answer.status).toBe(401)
  expect(answer.body).toEqual({ detail })
  expect(answer.headers.get('www-authenticate')).toBe('Bearer')
}

describe('authentication', () => {
  it('accepts a token signed as Visual Layer documents', async () => {
    expect((await call(emulator, path, { token: signToken() })).status).toBe(200)
  })

  it('answers "Not authenticated" without an Authorization header', async () => {
    await expect401({ token: null }, 'Not authenticated')
    await expect401({ authorization: 'Bearer ' }, 'Not authenticated')
  })

  it('refuses another scheme', async () => {
    await expect401({ authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }, 'Invalid authentication credentials: use the Bearer scheme (Authorization: Bearer <jwt>)')
  })

  it('refuses a malformed token without echoing it', async () => {
    const answer = await call(emulator, path, { token: 'not.a-jwt-secret-token' })
    expect(answer).toMatchObject({ status: 401, body: { detail: 'Invalid token: not a well-formed JWT' } })
    expect(answer.text).not.toContain('a-jwt-secret-token')
  })

  it('refuses a bad signature', async () => {
    await expect401({ token: signToken({ secret: 'not-the-secret' }) }, 'Invalid token: signature verification failed; sign it with your API secret')
  })

  it('refuses an unknown API key', async () => {
    const token = handMadeToken({ alg: 'HS256', typ: 'JWT', kid: 'vl-unknown-key' }, { ...goodClaims, sub: 'vl-unknown-key' }, 'whatever')
    await expect401({ token }, 'Invalid token: unknown API key in kid')
  })

  it('refuses a token without kid', async () => {
    const token = handMadeToken({ alg: 'HS256', typ: 'JWT' }, goodClaims, PRIMARY.apiSecret)
    await expect401({ token }, 'Invalid token: the kid header must hold your API key')
  })

  it('refuses sub different from kid', async () => {
    await expect401({ token: signToken({ claims: { sub: 'vl-demo-globex-key' } }) }, 'Invalid token: the sub claim must equal the API key in kid')
  })

  it('refuses an issuer other than "sdk"', async () => {
    await expect401({ token: signToken({ claims: { iss: 'web' } }) }, 'Invalid token: the iss claim must be "sdk"')
  })

  it('refuses a token without exp', async () => {
    const { exp: _exp, ...claims } = goodClaims
    await expect401({ token: handMadeToken({ alg: 'HS256', typ: 'JWT', kid: PRIMARY.apiKey }, claims, PRIMARY.apiSecret) }, 'Invalid token: the exp claim is required')
  })

  it('refuses alg "none" and other algorithms', async () => {
    const none = handMadeToken({ alg: 'none', typ: 'JWT', kid: PRIMARY.apiKey }, goodClaims, null)
    await expect401({ token: none }, 'Invalid token: the algorithm must be HS256 (got "none")')
    const hs512 = handMadeToken({ alg: 'HS512', typ: 'JWT', kid: PRIMARY.apiKey }, goodClaims, PRIMARY.apiSecret)
    await expect401({ token: hs512 }, 'Invalid token: the algorithm must be HS256 (got "HS512")')
  })

  it('judges expiry by the emulator clock, with a few seconds of tolerance, whatever iat says', async () => {
    const token = signToken({ nowSeconds: nowSeconds - 3600, ttlSeconds: 3600 + 60 })
    expect((await call(emulator, path, { token })).status).toBe(200)
    emulator.advance(60 * SECOND + 4 * SECOND)
    expect((await call(emulator, path, { token })).status).toBe(200)
    emulator.advance(2 * SECOND)
    await expect401({ token }, 'Token has expired; sign a new one')
  })

  it('accepts a token whose wall-clock exp is long past when the emulator clock is earlier', async () => {
    // The emulator's clock (2026-03-02) is what counts, not the machine's.
    const token = signToken({ nowSeconds: nowSeconds - 5 * 60 })
    expect((await call(emulator, path, { token })).status).toBe(200)
    emulator.advance(6 * MINUTE)
    expect((await call(emulator, path, { token })).status).toBe(401)
  })

  it('authenticates before validating the request', async () => {
    await expect401({ token: null }, 'Not authenticated')
    expect((await call(emulator, '/api/v1/dataset/not-a-uuid', { token: null })).status).toBe(401)
  })
})
