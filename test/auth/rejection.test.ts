import { createHmac, createSign, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createSigner } from 'fast-jwt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { DEMO_ACCOUNTS } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { visualLayerToken } from '../helpers/tokens.js'

/**
 * The rejection matrix of the authentication issue: every refused caller, over HTTP and over
 * WebSocket, gets 401 / close 4403 with UNAUTHENTICATED and a message saying what is wrong, and
 * costs Visual Layer nothing.
 */

const ISSUER = 'https://idp.example'
const AUDIENCE = 'vl-gateway'
const SECRET = 'an-hs256-secret-of-at-least-32-characters!'
const TOO_LONG = 'The bearer token lives too long: this gateway accepts at most 3600 s from iat to exp. Issue shorter-lived tokens.'
const now = (): number => Math.floor(Date.now() / 1000)
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

function rawJwt (header: Record<string, unknown>, payload: Record<string, unknown>, sign: (input: string) => string): string {
  const input = `${b64(header)}.${b64(payload)}`
  return `${input}.${sign(input)}`
}
const hmac = (key: string) => (input: string): string => createHmac('sha256', key).update(input).digest('base64url')
const rsa = (key: KeyObject) => (input: string): string => createSign('RSA-SHA256').update(input).sign(key, 'base64url')
const claims = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ sub: 'user-1', iss: ISSUER, aud: AUDIENCE, iat: now(), exp: now() + 300, ...extra })

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const publicPem = publicKey.export({ format: 'pem', type: 'spki' }).toString()

interface Refusal { status: number, code: unknown, message: unknown, calls: number }

async function overHttp (gw: TestGateway, authorization: string | undefined): Promise<Refusal> {
  gw.emulator.clearCalls()
  const res = await gw.gql('{ datasets { id } }', undefined, authorization === undefined ? {} : { authorization })
  const error = res.body.errors?.[0]
  return { status: res.status, code: error?.extensions?.code, message: error?.message, calls: gw.emulator.calls().length }
}

/** A raw graphql-transport-ws handshake: the close code and reason, or 'ack'. */
async function overWebSocket (gw: TestGateway, payload: Record<string, unknown>): Promise<{ outcome: string | number, reason: string, calls: number }> {
  gw.emulator.clearCalls()
  const socket = new WebSocket(`${gw.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws')
  const result = await new Promise<{ outcome: string | number, reason: string }>((resolve, reject) => {
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload })))
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string }
      if (message.type === 'connection_ack') resolve({ outcome: 'ack', reason: '' })
    })
    socket.on('close', (code, reason) => resolve({ outcome: code, reason: reason.toString() }))
    socket.on('error', reject)
  })
  socket.close()
  return { ...result, calls: gw.emulator.calls().length }
}

describe('jwt mode with an HS256 secret', () => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startTestGateway({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, JWT_CLOCK_TOLERANCE_SEC: '5', JWT_MAX_AGE_SEC: '3600' })
  })
  afterAll(async () => {
    const logs = gw.logs.text()
    await gw.close()
    // Across the whole matrix: no token, no secret, no "Bearer " in any log line.
    expect(logs).not.toContain('Bearer ')
    expect(logs).not.toContain(SECRET)
    expect(logs).not.toMatch(/eyJ[\w-]+\.[\w-]+/)
  })

  const good = (extra: Record<string, unknown> = {}): string => rawJwt({ alg: 'HS256', typ: 'JWT' }, claims(extra), hmac(SECRET))

  const cases: Array<[string, string | undefined, string]> = [
    ['no header', undefined, 'Missing Authorization header: send "Authorization: Bearer <token>".'],
    ['not a Bearer', 'Basic dXNlcjpwYXNz', 'The Authorization header must have the form "Bearer <token>".'],
    ['not a JWT', 'Bearer abc.def', 'The bearer token is not a well-formed JWT.'],
    ['a bad signature', `Bearer ${rawJwt({ alg: 'HS256' }, claims(), hmac('another-secret-of-at-least-32-chars!!'))}`, 'The bearer token\'s signature is not valid for this gateway\'s key.'],
    ['alg none', `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`, 'The bearer token is not signed; unsigned tokens (alg "none") are refused.'],
    ['an expired token', `Bearer ${good({ exp: now() - 60 })}`, 'The bearer token has expired: get a fresh one.'],
    ['nbf in the future', `Bearer ${good({ nbf: now() + 60 })}`, 'The bearer token is not valid yet (its nbf claim is in the future).'],
    ['the wrong iss', `Bearer ${good({ iss: 'https://evil.example' })}`, 'The bearer token has the wrong issuer; this gateway accepts tokens from https://idp.example.'],
    ['the wrong aud', `Bearer ${good({ aud: 'another-service' })}`, 'The bearer token has the wrong audience; this gateway accepts vl-gateway.'],
    ['no exp', `Bearer ${good({ exp: undefined })}`, 'The bearer token has no expiry (exp claim); tokens must expire.'],
    ['no sub', `Bearer ${good({ sub: undefined })}`, 'The bearer token has no subject (sub claim); this gateway needs one to tell callers apart.'],
    ['an empty sub', `Bearer ${good({ sub: '' })}`, 'The bearer token has no subject (sub claim); this gateway needs one to tell callers apart.'],
    ['a lifetime over JWT_MAX_AGE_SEC (iat to exp)', `Bearer ${good({ iat: now() - 3000, exp: now() + 900 })}`,
      TOO_LONG],
    ['an expiry in the year 2500 with no iat', `Bearer ${good({ iat: undefined, exp: 16725225600 })}`,
      TOO_LONG],
    ['an iat in the future hiding a far expiry', `Bearer ${good({ iat: now() + 100_000, exp: now() + 100_600 })}`,
      TOO_LONG]
  ]

  it.each(cases)('refuses %s over HTTP: 401, UNAUTHENTICATED, no upstream call', async (_name, authorization, message) => {
    expect(await overHttp(gw, authorization)).toEqual({ status: 401, code: 'UNAUTHENTICATED', message, calls: 0 })
  })

  it.each(cases)('refuses %s over WebSocket: close 4403 before any subscription, no upstream call', async (_name, authorization, message) => {
    expect(await overWebSocket(gw, authorization === undefined ? {} : { Authorization: authorization })).toEqual({ outcome: 4403, reason: message, calls: 0 })
  })

  it('accepts a token expired less than the clock tolerance ago, over HTTP and WebSocket (lower-case key too)', async () => {
    const token = good({ exp: now() - 3 })
    const http = await gw.gql('{ datasets { id } }', undefined, { authorization: `Bearer ${token}` })
    expect(http.status).toBe(200)
    expect((http.body.data as { datasets: unknown[] }).datasets).toHaveLength(10)
    // The caller is verified; Visual Layer sees the service account.
    expect(gw.emulator.calls().map((c) => c.apiKey)).toEqual([DEMO_ACCOUNTS.primary.apiKey])
    expect(await overWebSocket(gw, { authorization: `Bearer ${token}` })).toEqual({ outcome: 'ack', reason: '', calls: 0 })
  })

  it('accepts a token valid for exactly JWT_MAX_AGE_SEC', async () => {
    expect((await gw.gql('{ __typename }', undefined, { authorization: `Bearer ${good({ iat: now() - 600, exp: now() + 3000 })}` })).status).toBe(200)
  })

  it('does not warn of unchecked issuer and audience when they are checked', () => {
    expect(gw.logs.entries().filter((entry) => String(entry.msg).startsWith('AUTH_MODE=jwt checks neither'))).toEqual([])
  })

  it('refuses a token expired more than the tolerance ago', async () => {
    expect(await overHttp(gw, `Bearer ${good({ exp: now() - 8 })}`)).toEqual({ status: 401, code: 'UNAUTHENTICATED', message: 'The bearer token has expired: get a fresh one.', calls: 0 })
  })
})

describe('jwt mode with an RS256 public key', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway({ AUTH_MODE: 'jwt', JWT_PUBLIC_KEY: publicPem, JWT_ISSUER: ISSUER }) })
  afterAll(async () => { await gw.close() })

  it('accepts an RS256 token signed with the matching private key', async () => {
    const res = await gw.gql('{ datasets { id } }', undefined, { authorization: `Bearer ${rawJwt({ alg: 'RS256' }, claims(), rsa(privateKey))}` })
    expect(res.status).toBe(200)
  })

  it('refuses an HS256 token signed with the public key as its secret (algorithm confusion)', async () => {
    const forged = rawJwt({ alg: 'HS256' }, claims(), hmac(publicPem))
    const message = 'The bearer token is signed with an algorithm this gateway does not accept; it accepts RS256.'
    expect(await overHttp(gw, `Bearer ${forged}`)).toEqual({ status: 401, code: 'UNAUTHENTICATED', message, calls: 0 })
    expect(await overWebSocket(gw, { Authorization: `Bearer ${forged}` })).toEqual({ outcome: 4403, reason: message, calls: 0 })
  })
})

describe('jwt mode with a JWKS URL', () => {
  let gw: TestGateway
  let jwks: Server
  let fetches = 0
  beforeAll(async () => {
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'key-1', alg: 'RS256', use: 'sig' }
    jwks = createServer((_req, res) => {
      fetches++
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ keys: [jwk] }))
    })
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`
    gw = await startTestGateway({ AUTH_MODE: 'jwt', JWT_JWKS_URL: url, JWT_ISSUER: ISSUER })
  })
  afterAll(async () => {
    await gw.close()
    await new Promise((resolve) => jwks.close(resolve))
  })

  it('accepts a token whose kid is in the key set, fetching the set once for many tokens', async () => {
    fetches = 0
    for (let i = 0; i < 5; i++) {
      const res = await gw.gql('{ datasets { id } }', undefined, { authorization: `Bearer ${rawJwt({ alg: 'RS256', kid: 'key-1' }, claims({ sub: `user-${i}` }), rsa(privateKey))}` })
      expect(res.status).toBe(200)
    }
    expect(fetches).toBe(1)
  })

  it('refuses a kid that does not exist, and a flood of them does not fetch the key set once per token', async () => {
    fetches = 0
    const message = 'The bearer token is signed with a key (kid) the configured key set does not have.'
    const results = await Promise.all(Array.from({ length: 50 }, async (_, i) =>
      await overHttp(gw, `Bearer ${rawJwt({ alg: 'RS256', kid: `made-up-${i}` }, claims(), rsa(privateKey))}`)))
    for (const result of results) expect(result).toEqual({ status: 401, code: 'UNAUTHENTICATED', message, calls: 0 })
    expect(fetches).toBeLessThanOrEqual(1)
    expect(await overWebSocket(gw, { Authorization: `Bearer ${rawJwt({ alg: 'RS256', kid: 'made-up-ws' }, claims(), rsa(privateKey))}` })).toEqual({ outcome: 4403, reason: message, calls: 0 })
  })

  it('does not fetch keys for a token from another issuer', async () => {
    fetches = 0
    const token = rawJwt({ alg: 'RS256', kid: 'other' }, claims({ iss: 'https://evil.example' }), rsa(privateKey))
    expect(await overHttp(gw, `Bearer ${token}`)).toEqual({ status: 401, code: 'UNAUTHENTICATED', message: 'The bearer token has the wrong issuer; this gateway accepts tokens from https://idp.example.', calls: 0 })
    expect(fetches).toBe(0)
  })
})

describe('passthrough mode', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway({ AUTH_MODE: 'passthrough' }) })
  afterAll(async () => { await gw.close() })

  const cases: Array<[string, string | undefined, string]> = [
    ['no header', undefined, 'Missing Authorization header: send "Authorization: Bearer <token>".'],
    ['not a JWT', 'Bearer abc.def', 'The bearer token is not a well-formed JWT.'],
    ['alg none', `Bearer ${b64({ alg: 'none', kid: 'k' })}.${b64({ sub: 'k', iss: 'sdk', exp: now() + 60 })}.`, 'The bearer token must be signed with HS256 as Visual Layer documents; it says alg "none".'],
    ['an expired token', `Bearer ${visualLayerToken(DEMO_ACCOUNTS.primary, { exp: now() - 60 })}`, 'The bearer token has expired: sign a fresh Visual Layer JWT.'],
    ['nbf in the future', `Bearer ${visualLayerToken(DEMO_ACCOUNTS.primary, { nbf: now() + 60 })}`, 'The bearer token is not valid yet (its nbf claim is in the future).'],
    ['the wrong iss', `Bearer ${visualLayerToken(DEMO_ACCOUNTS.primary, { iss: 'web' })}`, 'The bearer token has the wrong issuer: Visual Layer tokens have iss "sdk".']
  ]

  it.each(cases)('refuses %s over HTTP and WebSocket without an upstream call', async (_name, authorization, message) => {
    expect(await overHttp(gw, authorization)).toEqual({ status: 401, code: 'UNAUTHENTICATED', message, calls: 0 })
    expect(await overWebSocket(gw, authorization === undefined ? {} : { Authorization: authorization })).toEqual({ outcome: 4403, reason: message, calls: 0 })
  })

  it('forwards a well-formed token unchanged, and maps Visual Layer\'s 401 for a bad signature to UNAUTHENTICATED', async () => {
    const forged = createSigner({ key: 'not-the-secret', algorithm: 'HS256', kid: DEMO_ACCOUNTS.primary.apiKey })({ sub: DEMO_ACCOUNTS.primary.apiKey, iss: 'sdk', exp: now() + 300 })
    gw.emulator.clearCalls()
    const res = await gw.gql('{ datasets { id } }', undefined, { authorization: `Bearer ${forged}` })
    expect(res.body.errors?.map((e) => [e.extensions?.code, e.extensions?.upstream])).toEqual([['UNAUTHENTICATED', { status: 401 }]])
    expect(gw.emulator.calls().map((c) => `${c.path} ${c.status}`)).toEqual(['/api/v1/datasets 401'])
  })
})

describe('schema introspection without a token (GraphiQL\'s first request)', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET }) })
  afterAll(async () => { await gw.close() })

  it('(a gateway checking neither issuer nor audience) warned about it once at start-up', () => {
    expect(gw.logs.entries().filter((entry) => String(entry.msg).startsWith('AUTH_MODE=jwt checks neither')).map((entry) => [entry.level, entry.msg])).toEqual([[
      40,
      'AUTH_MODE=jwt checks neither the issuer nor the audience of tokens: any token signed with this key is accepted, whoever it was issued for. ' +
      'Set JWT_ISSUER and/or JWT_AUDIENCE.'
    ]])
  })

  it('is answered: the schema is the public contract and asks Visual Layer nothing', async () => {
    gw.emulator.clearCalls()
    const res = await gw.gql('query IntrospectionQuery { __schema { queryType { name } subscriptionType { name } } }')
    expect([res.status, res.body]).toEqual([200, { data: { __schema: { queryType: { name: 'Query' }, subscriptionType: { name: 'Subscription' } } } }])
    const byGet = await fetch(`${gw.url}/graphql?query=${encodeURIComponent('{ __type(name: "Dataset") { name } }')}`, { headers: { 'graphql-preflight': '1' } })
    expect([byGet.status, await byGet.json()]).toEqual([200, { data: { __type: { name: 'Dataset' } } }])
    expect(gw.emulator.calls()).toEqual([])
  })

  it.each([
    ['data beside the introspection', '{ __schema { queryType { name } } datasets { id } }'],
    ['a fragment spread at the top', '{ ...F } fragment F on Query { datasets { id } }'],
    ['a mutation', 'mutation { abortTask(taskId: "00000000-0000-4000-8000-000000000000") { id } }'],
    ['a document that does not parse', '{ __schema { '],
    ['a data query', '{ datasets { id } }']
  ])('is not stretched to %s: 401 without an upstream call', async (_name, query) => {
    gw.emulator.clearCalls()
    const res = await gw.gql(query)
    expect([res.status, res.body.errors?.[0]?.extensions?.code, res.body.errors?.[0]?.message]).toEqual([401, 'UNAUTHENTICATED', 'Missing Authorization header: send "Authorization: Bearer <token>".'])
    expect(gw.emulator.calls()).toEqual([])
  })

  it('does not excuse a bad token: a header that is present is checked, whatever the document', async () => {
    const res = await gw.gql('{ __schema { queryType { name } } }', undefined, { authorization: 'Bearer nope' })
    expect([res.status, res.body.errors?.[0]?.message]).toEqual([401, 'The bearer token is not a well-formed JWT.'])
  })
})
