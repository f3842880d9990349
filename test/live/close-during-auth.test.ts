import { createSign, generateKeyPairSync } from 'node:crypto'
import { createServer, type ServerResponse, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, expect, it } from 'vitest'
import WebSocket from 'ws'
import { SEED } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { connectionEnd, when } from '../helpers/wait.js'
import { record, wsClient } from '../helpers/ws.js'

/**
 * A connection that closes while its token is still being checked (jwt mode fetching its key set)
 * must not keep a slot of its caller's connection limit once the check ends.
 */

const ISSUER = 'https://idp.example'
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
function token (): string {
  const now = Math.floor(Date.now() / 1000)
  const input = `${b64({ alg: 'RS256', kid: 'key-1' })}.${b64({ sub: 'user-1', iss: ISSUER, iat: now, exp: now + 300 })}`
  return `${input}.${createSign('RSA-SHA256').update(input).sign(privateKey, 'base64url')}`
}

let gw: TestGateway
let jwks: Server
/** Key-set requests held until the test lets them answer. */
const held: ServerResponse[] = []
const body = JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'key-1', alg: 'RS256', use: 'sig' }] })
beforeAll(async () => {
  jwks = createServer((_req, res) => { held.push(res) })
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`
  gw = await startTestGateway({ AUTH_MODE: 'jwt', JWT_JWKS_URL: url, JWT_ISSUER: ISSUER, WS_MAX_CONNECTIONS_PER_CALLER: '1' })
})
afterAll(async () => {
  await gw.close()
  jwks.closeAllConnections()
  await new Promise((resolve) => jwks.close(resolve))
})

const openConnections = async (): Promise<number> => await new Promise((resolve, reject) => {
  gw.app.server.getConnections((err, count) => { if (err !== null) reject(err); else resolve(count) })
})

it('a connection closed while its token is checked frees its slot: the caller\'s next connection is accepted', async () => {
  const early = new WebSocket(`${gw.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws')
  early.on('open', () => { early.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${token()}` } })) })
  await when('the key set request', (listener) => {
    jwks.on('request', listener)
    return () => { jwks.off('request', listener) }
  }, () => held.length === 1)
  const closed = connectionEnd(gw.app.server, 'websocket')
  early.terminate()
  // The gateway has seen the socket close, and only then does the key set answer.
  expect((await closed).open).toBe(0)
  expect(await openConnections()).toBe(0)
  for (const res of held.splice(0)) res.setHeader('content-type', 'application/json').end(body)

  const client = wsClient(gw.url, { Authorization: `Bearer ${token()}` })
  const sub = record(client, `subscription { datasetStatusChanged(datasetId: "${SEED.datasets.readOnly}", follow: true) { status } }`)
  const outcome = await Promise.race([
    sub.received(1).then(() => 'event', () => 'no event'),
    sub.done.then(() => 'completed', (err: { code?: number, reason?: string }) => `closed ${String(err.code)} ${String(err.reason)}`)
  ])
  expect(outcome).toBe('event')
  await client.dispose()
})
