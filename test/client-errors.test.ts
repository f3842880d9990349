import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type TestGateway } from './helpers/gateway.js'

/**
 * Requests Node refuses before Fastify reads them are answered in the gateway's error shape
 * (issue 9, item 5: an Authorization header over 16 KB got a 431 in another shape).
 */

let gw: TestGateway
beforeAll(async () => { gw = await startTestGateway({ AUTH_MODE: 'passthrough' }) })
afterAll(async () => { await gw.close() })

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const TOO_LARGE = 'The request\'s URL and headers are larger than the gateway accepts (16384 bytes in all). A Visual Layer JWT is far smaller: ' +
  'check the Authorization header and any cookies sent with it, and send a long GraphQL document by POST rather than in the URL.'

describe('requests refused before they are read', () => {
  it('answers an Authorization header over 16 KB with 431 QUERY_REJECTED saying what is too large, at no upstream cost', async () => {
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${'a'.repeat(17_000)}` },
      body: JSON.stringify({ query: '{ datasets { id } }' })
    })
    const requestId = res.headers.get('x-request-id') ?? ''
    expect(requestId).toMatch(UUID)
    expect({ status: res.status, type: res.headers.get('content-type'), connection: res.headers.get('connection'), body: await res.json() }).toEqual({
      status: 431,
      type: 'application/json; charset=utf-8',
      connection: 'close',
      body: {
        data: null,
        errors: [{
          message: TOO_LARGE,
          extensions: { code: 'QUERY_REJECTED', requestId }
        }]
      }
    })
    expect(gw.emulator.calls()).toEqual([])
  })

  it('answers a URL over 16 KB (a GET\'s document in its query string) with the same 431, naming the URL too, at no upstream cost', async () => {
    const res = await fetch(`${gw.url}/graphql?query=${encodeURIComponent(`{ ${'__typename '.repeat(1_700)}}`)}`, { headers: { 'graphql-preflight': '1' } })
    const requestId = res.headers.get('x-request-id') ?? ''
    expect([res.status, await res.json()]).toEqual([431, { data: null, errors: [{ message: TOO_LARGE, extensions: { code: 'QUERY_REJECTED', requestId } }] }])
    expect(requestId).toMatch(UUID)
    expect(gw.emulator.calls()).toEqual([])
  })

  it('still reads a long header under the limit, and refuses its token as the gateway refuses any malformed one', async () => {
    const res = await gw.gql('{ datasets { id } }', undefined, { authorization: `Bearer ${'a'.repeat(15_000)}` })
    expect([res.status, res.body.errors?.map((e) => [e.extensions?.code, e.message])]).toEqual([401, [['UNAUTHENTICATED', 'The bearer token is not a well-formed JWT.']]])
  })

  it('answers bytes that are not HTTP with 400 QUERY_REJECTED in the same shape', async () => {
    const { port } = new URL(gw.url)
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'))
      let text = ''
      socket.on('data', (chunk) => { text += chunk.toString() })
      socket.on('end', () => resolve(text))
      socket.on('error', reject)
    })
    const [head, body] = raw.split('\r\n\r\n')
    expect(head?.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request')
    const parsed = JSON.parse(body ?? '') as { errors: Array<{ extensions: { requestId: string } }> }
    expect(parsed).toEqual({ data: null, errors: [{ message: 'The request is not valid HTTP.', extensions: { code: 'QUERY_REJECTED', requestId: parsed.errors[0]?.extensions.requestId } }] })
    expect(parsed.errors[0]?.extensions.requestId).toMatch(UUID)
  })
})
