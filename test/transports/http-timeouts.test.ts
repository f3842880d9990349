import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { nextServerSocket, openSockets, parseAnswer, rawExchange } from '../helpers/raw-http.js'
import { rawConnection } from '../helpers/ws.js'

/**
 * Deadlines on what a client sends (issue 22, item 5): a request whose headers or body stall is
 * answered 408 in its door's error shape once HTTP_HEADERS_TIMEOUT_MS or HTTP_REQUEST_TIMEOUT_MS
 * has passed since it began (since the connection opened, for its first request), and its socket is
 * closed; so is a connection that sends nothing; an idle keep-alive socket is closed
 * after HTTP_KEEP_ALIVE_TIMEOUT_MS. Node checks the deadlines every quarter of the shorter one, so
 * the answer comes at most that much after it. Long-lived answers (SSE, REST event streams,
 * WebSocket) are not requests still being received, and outlive every deadline.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

function graphqlRefusal (message: string, requestId: string): string {
  return JSON.stringify({ data: null, errors: [{ message, extensions: { code: 'QUERY_REJECTED', requestId } }] })
}

function head (status: string, body: string, requestId: string, type = 'application/json; charset=utf-8'): unknown {
  return {
    status,
    headers: { 'content-type': type, 'content-length': String(Buffer.byteLength(body)), 'x-request-id': requestId, connection: 'close' },
    body
  }
}

const BODY_LATE = 'The request was not received in time: its headers and body must arrive within 600 ms. Send it again without pausing.'
const HEADERS_LATE = 'The request\'s headers were not received in time: they must arrive within 400 ms. Send them again without pausing.'

describe('a request that stalls (HTTP_REQUEST_TIMEOUT_MS=600, HTTP_HEADERS_TIMEOUT_MS=400, HTTP_KEEP_ALIVE_TIMEOUT_MS=1000)', () => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startTestGateway({ HTTP_REQUEST_TIMEOUT_MS: '600', HTTP_HEADERS_TIMEOUT_MS: '400', HTTP_KEEP_ALIVE_TIMEOUT_MS: '1000' })
  })
  afterAll(async () => { await gw.close() })

  /** Sends `bytes` on a new socket; resolves with what the gateway answered once it let go of the socket. */
  const stall = async (bytes: string): Promise<{ answer: ReturnType<typeof parseAnswer>, before: number, after: number }> => {
    const before = await openSockets(gw.app)
    const server = nextServerSocket(gw.app)
    const exchange = await rawExchange(gw.url, bytes)
    const raw = await exchange.received
    await (await server).closed
    return { answer: parseAnswer(raw), before, after: await openSockets(gw.app) }
  }

  it('answers a /graphql body that stops halfway with 408 in the GraphQL error shape, closes the socket, and calls Visual Layer never', async () => {
    gw.emulator.clearCalls()
    const { answer, before, after } = await stall(
      'POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: 100\r\nx-request-id: stalled-body\r\n\r\n{"query":'
    )
    expect(answer).toEqual(head('HTTP/1.1 408 Request Timeout', graphqlRefusal(BODY_LATE, 'stalled-body'), 'stalled-body'))
    expect(after).toBe(before)
    expect(gw.emulator.calls()).toEqual([])
  })

  it('answers a REST body that stops halfway with a 408 problem, and sends Visual Layer nothing', async () => {
    gw.emulator.clearCalls()
    const { answer, before, after } = await stall(
      `POST /v1/datasets/${SEED.datasets.ready}/enrichments HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n` +
      'Content-Length: 100\r\nx-request-id: stalled-rest\r\n\r\n{"models":['
    )
    const problem = JSON.stringify({
      type: 'urn:vl-gateway:problem:request-timeout',
      title: 'Request timeout',
      status: 408,
      detail: BODY_LATE,
      code: 'BAD_USER_INPUT',
      requestId: 'stalled-rest'
    })
    expect(answer).toEqual(head('HTTP/1.1 408 Request Timeout', problem, 'stalled-rest', 'application/problem+json; charset=utf-8'))
    expect(after).toBe(before)
    expect(gw.emulator.calls()).toEqual([])
  })

  it('cuts a body sent one byte at a time at the same deadline: the deadline counts from its start, not from the last byte', async () => {
    const before = await openSockets(gw.app)
    const server = nextServerSocket(gw.app)
    const exchange = await rawExchange(gw.url,
      'POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nx-request-id: trickle\r\n\r\n')
    // The attack: a byte every 50 ms keeps the socket busy, as a slow-loris client does; it stops when the gateway closes.
    const trickle = setInterval(() => { if (!exchange.socket.destroyed) exchange.socket.write(' ') }, 50)
    const raw = await exchange.received
    clearInterval(trickle)
    await (await server).closed
    expect(parseAnswer(raw)).toEqual(head('HTTP/1.1 408 Request Timeout', graphqlRefusal(BODY_LATE, 'trickle'), 'trickle'))
    expect(await openSockets(gw.app)).toBe(before)
  })

  it('closes, and writes nothing more on, a socket whose request was refused before its body came, once the body is late', async () => {
    const { answer, before, after } = await stall(
      'POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Type: text/plain\r\nContent-Length: 100\r\nx-request-id: refused-early\r\n\r\n{"query":'
    )
    // The CSRF refusal, sent at once; its socket stayed open for the rest of the body until the deadline, then closed with no 408 after it.
    expect(answer.status).toBe('HTTP/1.1 400 Bad Request')
    expect(answer.headers['x-request-id']).toBe('refused-early')
    expect(JSON.parse(answer.body)).toMatchObject({ data: null, errors: [{ extensions: { code: 'QUERY_REJECTED', requestId: 'refused-early' } }] })
    expect(after).toBe(before)
  })

  it('answers headers that stop halfway with 408 in the GraphQL error shape and a fresh request id', async () => {
    const { answer, before, after } = await stall('GET /health/live HTTP/1.1\r\nHost: gateway\r\nx-request-id: never-read\r\n')
    const requestId = answer.headers['x-request-id'] ?? ''
    expect(requestId).toMatch(UUID)
    expect(answer).toEqual(head('HTTP/1.1 408 Request Timeout', graphqlRefusal(HEADERS_LATE, requestId), requestId))
    expect(after).toBe(before)
  })

  it('answers a connection that sends nothing with 408 once the headers are late, and closes it', async () => {
    const { answer, before, after } = await stall('')
    const requestId = answer.headers['x-request-id'] ?? ''
    expect(requestId).toMatch(UUID)
    expect(answer).toEqual(head('HTTP/1.1 408 Request Timeout', graphqlRefusal(HEADERS_LATE, requestId), requestId))
    expect(after).toBe(before)
  })

  it('closes a keep-alive socket left idle after its answer', async () => {
    const before = await openSockets(gw.app)
    const server = nextServerSocket(gw.app)
    const exchange = await rawExchange(gw.url, 'GET /health/live HTTP/1.1\r\nHost: gateway\r\nx-request-id: idle\r\n\r\n')
    const raw = await exchange.received
    await (await server).closed
    const answer = parseAnswer(raw)
    expect([answer.status, answer.headers['keep-alive'], answer.body]).toEqual(['HTTP/1.1 200 OK', 'timeout=1', '{"status":"live"}'])
    expect(await openSockets(gw.app)).toBe(before)
  })
})

describe('long-lived connections outlive the deadlines (HTTP_REQUEST_TIMEOUT_MS=300)', () => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startTestGateway({ HTTP_REQUEST_TIMEOUT_MS: '300', HTTP_HEADERS_TIMEOUT_MS: '300', HTTP_KEEP_ALIVE_TIMEOUT_MS: '1000', POLL_INTERVAL_MS: '250' })
  })
  afterAll(async () => { await gw.close() })

  /** Reads a stream until `done` holds for what arrived. */
  const readUntil = async (reader: ReadableStreamDefaultReader<Uint8Array>, done: (text: string) => boolean): Promise<string> => {
    const decoder = new TextDecoder()
    let text = ''
    while (!done(text)) {
      const next = await reader.read()
      if (next.done) throw new Error(`the stream ended after: ${text}`)
      text += decoder.decode(next.value, { stream: true })
    }
    return text
  }

  it('a REST event stream, an SSE stream and a WebSocket opened before a request that timed out still carry events after it', async () => {
    const rest = await fetch(`${gw.url}/v1/datasets/${SEED.datasets.indexing}/events?follow=true`)
    const restReader = rest.body?.getReader()
    if (restReader === undefined) throw new Error('no body')
    expect(await readUntil(restReader, (text) => text.includes('"status":"INDEXING"'))).toContain('event: status')

    const sse = await fetch(`${gw.url}/graphql/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: `subscription { datasetStatusChanged(datasetId: "${SEED.datasets.indexing}") { status } }` })
    })
    const sseReader = sse.body?.getReader()
    if (sseReader === undefined) throw new Error('no body')
    await readUntil(sseReader, (text) => text.includes('"status":"INDEXING"'))

    const ws = await rawConnection(gw.url)

    // Opened after the three: once it is refused, the deadline has passed for them too, and Node checked them with it.
    const stalled = await rawExchange(gw.url, 'POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{')
    expect(parseAnswer(await stalled.received).status).toBe('HTTP/1.1 408 Request Timeout')

    gw.emulator.advance(31_000)
    expect(await readUntil(restReader, (text) => text.includes('"status":"READY"'))).toContain('event: status')
    expect(await readUntil(sseReader, (text) => text.includes('event: complete'))).toContain('{"data":{"datasetStatusChanged":{"status":"READY"}}}')
    const pong = new Promise<unknown>((resolve) => { ws.socket.once('message', (data) => { resolve(JSON.parse(String(data))) }) })
    ws.socket.send(JSON.stringify({ type: 'ping' }))
    expect(await pong).toEqual({ type: 'pong' })
    await restReader.cancel()
    ws.socket.close()
  })
})
