import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'

/**
 * Requests no door serves (issue 22, item 15) answer in the gateway's shape, never in Fastify's
 * (`{"message":"Route GET:/nope not found"}`, or `FST_ERR_MAX_PARAM_LENGTH` with the path echoed):
 * under /v1 a problem, elsewhere GraphQL's error shape, with the request id and without the path.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const LONG = 'a'.repeat(120)
const NOT_FOUND = 'Nothing is served here with this method. The gateway serves /graphql (GraphQL over HTTP, GET and POST, and its WebSocket), ' +
  '/graphql/stream (subscriptions over SSE), the REST API under /v1 (GET /v1/openapi.json lists it), /health/live and /health/ready, ' +
  'and GraphiQL at /graphiql when it is on.'

describe('requests no door serves', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway() })
  afterAll(async () => { await gw.close() })

  const send = async (method: string, path: string, init: RequestInit = {}): Promise<{ status: number, type: string | null, requestId: string | null, body: string }> => {
    const res = await fetch(`${gw.url}${path}`, { method, ...init, headers: { 'x-request-id': 'unrouted', ...init.headers as Record<string, string> } })
    return { status: res.status, type: res.headers.get('content-type'), requestId: res.headers.get('x-request-id'), body: await res.text() }
  }
  const graphqlError = (message: string, code: string): string => JSON.stringify({ data: null, errors: [{ message, extensions: { code, requestId: 'unrouted' } }] })

  it.each([
    ['GET', '/nope'],
    ['GET', '/health/nope'],
    ['GET', '/graphiql/assets/nope.js'],
    ['DELETE', '/graphql'],
    ['GET', `/${LONG}`]
  ])('answers %s %s with 404 NOT_FOUND in the GraphQL error shape, without the path', async (method, path) => {
    expect(await send(method, path)).toEqual({
      status: 404, type: 'application/json; charset=utf-8', requestId: 'unrouted', body: graphqlError(NOT_FOUND, 'NOT_FOUND')
    })
  })

  it.each([
    ['GET', '/v1/nope'],
    ['DELETE', '/v1/datasets']
  ])('answers %s %s with a 404 NOT_FOUND problem, the REST door\'s shape', async (method, path) => {
    expect(await send(method, path)).toEqual({
      status: 404,
      type: 'application/problem+json; charset=utf-8',
      requestId: 'unrouted',
      body: JSON.stringify({
        type: 'urn:vl-gateway:problem:not-found',
        title: 'Not found',
        status: 404,
        detail: `No resource at ${method} ${path}: see GET /v1/openapi.json for the routes.`,
        code: 'NOT_FOUND',
        requestId: 'unrouted'
      })
    })
    expect(gw.emulator.calls()).toEqual([])
  })

  it.each([
    `/v1/datasets/${LONG}`,
    `/v1/datasets/${LONG}/events`,
    `/v1/tasks/${LONG}/retry`
  ])('answers a path parameter over 100 characters (%s) with a 414 problem that does not echo it', async (path) => {
    const answer = await send(path.endsWith('retry') ? 'POST' : 'GET', path, { headers: { 'content-type': 'application/json' } })
    expect(answer).toEqual({
      status: 414,
      type: 'application/problem+json; charset=utf-8',
      requestId: 'unrouted',
      body: JSON.stringify({
        type: 'urn:vl-gateway:problem:uri-too-long',
        title: 'URI too long',
        status: 414,
        detail: 'A path segment is longer than the 100 characters the gateway reads: ids are UUIDs of 36 characters, such as ad48d250-1232-11f1-bfca-fa39f6ed1f22.',
        code: 'BAD_USER_INPUT',
        requestId: 'unrouted'
      })
    })
    expect(gw.emulator.calls()).toEqual([])
  })

  it('answers a path parameter that is not valid percent-encoding with a 400 problem that does not echo it', async () => {
    expect(await send('GET', '/v1/datasets/%E0%A4%A')).toEqual({
      status: 400,
      type: 'application/problem+json; charset=utf-8',
      requestId: 'unrouted',
      body: JSON.stringify({
        type: 'urn:vl-gateway:problem:bad-user-input',
        title: 'Bad request',
        status: 400,
        detail: 'A path segment is not valid percent-encoding (a % starts two hex digits, and the bytes they spell are UTF-8): encode it again.',
        code: 'BAD_USER_INPUT',
        requestId: 'unrouted'
      })
    })
  })

  it('answers a request the SSE door cannot read (a body that is not JSON) in the GraphQL error shape', async () => {
    const answer = await send('POST', '/graphql/stream', { headers: { 'content-type': 'application/json', accept: 'text/event-stream' }, body: '{"query":' })
    expect(answer).toEqual({
      status: 400,
      type: 'application/json; charset=utf-8',
      requestId: 'unrouted',
      body: graphqlError('Body is not valid JSON but content-type is set to \'application/json\'', 'BAD_USER_INPUT')
    })
  })

  it('gives a fresh request id when the client sent none', async () => {
    const res = await fetch(`${gw.url}/nope`)
    const requestId = res.headers.get('x-request-id') ?? ''
    expect(requestId).toMatch(UUID)
    expect(await res.json()).toEqual({ data: null, errors: [{ message: NOT_FOUND, extensions: { code: 'NOT_FOUND', requestId } }] })
  })
})
