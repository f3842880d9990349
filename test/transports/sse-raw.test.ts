import type { Client as WsClient } from 'graphql-ws'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import type { TestGateway } from '../helpers/gateway.js'
import { AUTH_MODES, connectionParams, freshToken, inTokenModes, startModeGateway } from '../helpers/modes.js'
import { ManualTime } from '../helpers/manual-time.js'
import { countTurns, pollsSettled } from '../helpers/polls.js'
import { bearer, recordSse, sseClient } from '../helpers/sse.js'
import { connectionEnd } from '../helpers/wait.js'
import { record, wsClient } from '../helpers/ws.js'

/**
 * /graphql/stream byte for byte, as docs/graphql.md's `curl -N` example shows it, and what the client
 * library does not show: refusals' bodies, the per-caller stream limit, who may use a
 * single-connection stream, and one poller for a dataset watched over WebSocket and SSE at once.
 */

const INTERVAL = 250
const statusQuery = (id: string, follow = false): string => `subscription { datasetStatusChanged(datasetId: "${id}", follow: ${String(follow)}) { id status progress } }`

/** What `curl -N -H 'Accept: text/event-stream' -H 'Content-Type: application/json' -d …` sends. */
async function curl (gw: TestGateway, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<globalThis.Response> {
  return await fetch(`${gw.url}/graphql/stream`, {
    method: 'POST',
    headers: { accept: 'text/event-stream', 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal
  })
}

/** Reads an event stream until `count` events (not comments) have arrived. */
async function readEvents (response: globalThis.Response, count: number): Promise<string> {
  const reader = response.body?.getReader()
  if (reader === undefined) throw new Error('no body')
  const decoder = new TextDecoder()
  let text = ''
  while ((text.match(/^event: /gm) ?? []).length < count) {
    const { value, done } = await reader.read()
    if (done) break
    text += decoder.decode(value, { stream: true })
  }
  // Released, not cancelled: cancelling would close the stream.
  reader.releaseLock()
  return text
}

describe.each(AUTH_MODES)('/graphql/stream over raw HTTP (AUTH_MODE=%s)', (mode) => {
  const clockDataset = SEED.datasets.readySecond
  let gw: TestGateway
  const time = new ManualTime()
  const getsOf = (id: string): number => gw.emulator.calls().filter((c) => c.method === 'GET' && c.path === `/api/v1/dataset/${id}`).length

  // The clock's dataset is settled: a fixed interval here (no adaptive polling), so that it ticks as often as the watched one.
  beforeAll(async () => { gw = await startModeGateway(mode, { POLL_INTERVAL_MS: String(INTERVAL), POLL_MAX_INTERVAL_MS: String(INTERVAL), SSE_MAX_STREAMS_PER_CALLER: '50' }, { liveTime: time }) })
  afterAll(async () => { await gw.close() })

  it('answers the curl example of docs/graphql.md with exactly these bytes: a comment, next, then complete', async () => {
    const response = await curl(gw, { query: statusQuery(SEED.datasets.error) }, bearer(freshToken(mode)))
    expect([response.status, response.headers.get('content-type')]).toEqual([200, 'text/event-stream; charset=utf-8'])
    expect(await response.text()).toBe(
      ':\n\n' +
      `event: next\ndata: {"data":{"datasetStatusChanged":{"id":"${SEED.datasets.error}","status":"ERROR","progress":37}}}\n\n` +
      'event: complete\ndata:\n\n'
    )
  })

  // AUTH_MODE=none asks for no token: this case exists in the token modes only.
  const withTokens = inTokenModes(mode)
  withTokens('refuses a request without a token with 401 and UNAUTHENTICATED, in either mode (POST stream, PUT)', async () => {
    const post = await curl(gw, { query: statusQuery(SEED.datasets.error) })
    const put = await fetch(`${gw.url}/graphql/stream`, { method: 'PUT' })
    const body = {
      data: null,
      errors: [{ message: 'Missing Authorization header: send "Authorization: Bearer <token>".', extensions: { code: 'UNAUTHENTICATED', requestId: expect.any(String) } }]
    }
    expect([post.status, post.headers.get('www-authenticate'), await post.json()]).toEqual([401, 'Bearer', body])
    expect([put.status, await put.json()]).toEqual([401, body])
  })

  it('single-connection mode by hand: PUT gives a token, operations wait for the open stream, DELETE ends one', async () => {
    const auth = bearer(freshToken(mode, { subject: 'by-hand' }))
    const put = await fetch(`${gw.url}/graphql/stream`, { method: 'PUT', headers: auth })
    const token = await put.text()
    expect([put.status, token]).toEqual([201, expect.stringMatching(/^[0-9a-f-]{36}$/)])
    const operation = async (id: string, query: string): Promise<globalThis.Response> => await fetch(`${gw.url}/graphql/stream`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'x-graphql-event-stream-token': token },
      body: JSON.stringify({ query, extensions: { operationId: id } })
    })
    const early = await operation('1', statusQuery(SEED.datasets.error))
    expect([early.status, (await early.json() as { errors: Array<{ extensions: { code: string } }> }).errors[0]?.extensions.code]).toEqual([409, 'CONFLICT'])

    const stream = await fetch(`${gw.url}/graphql/stream`, { headers: { ...auth, accept: 'text/event-stream', 'x-graphql-event-stream-token': token } })
    expect(stream.status).toBe(200)
    expect((await operation('1', statusQuery(SEED.datasets.error))).status).toBe(202)
    const text = await readEvents(stream, 2)
    expect(text).toBe(
      ':\n\n' +
      `event: next\ndata: {"id":"1","payload":{"data":{"datasetStatusChanged":{"id":"${SEED.datasets.error}","status":"ERROR","progress":37}}}}\n\n` +
      'event: complete\ndata: {"id":"1"}\n\n'
    )

    expect((await operation('2', statusQuery(SEED.datasets.readOnly, true))).status).toBe(202)
    expect(await readEvents(stream, 1)).toBe(`event: next\ndata: {"id":"2","payload":{"data":{"datasetStatusChanged":{"id":"${SEED.datasets.readOnly}","status":"READ_ONLY","progress":100}}}}\n\n`)
    const end = await fetch(`${gw.url}/graphql/stream?operationId=2`, { method: 'DELETE', headers: { ...auth, 'x-graphql-event-stream-token': token } })
    expect(end.status).toBe(200)
    expect(await readEvents(stream, 1)).toBe('event: complete\ndata: {"id":"2"}\n\n')
    await stream.body?.cancel()
  })

  it('one poller for a dataset watched over WebSocket and over SSE (both modes) at once: one upstream GET per interval', async () => {
    const watched = SEED.datasets.readOnly
    const token = freshToken(mode, { subject: 'shared', ttlSec: 3600 })
    const ws: WsClient = wsClient(gw.url, token === null ? {} : { Authorization: `Bearer ${token}` })
    const clock = wsClient(gw.url, connectionParams(mode, { ttlSec: 3600 }))
    const distinct = sseClient(gw.url, false, bearer(token))
    const single = sseClient(gw.url, true, bearer(token))
    const turns = countTurns(gw)
    const grantedBefore = gw.app.live.turnsGranted
    try {
      const ticking = record(clock, statusQuery(clockDataset, true))
      await ticking.received(1)
      const subs = [record(ws, statusQuery(watched, true)), recordSse(distinct, statusQuery(watched, true)), recordSse(single, statusQuery(watched, true))]
      await Promise.all(subs.map(async (sub) => { await sub.received(1) }))
      // Time moves to the next timer once every poll granted so far has ended: n more polls of the clock.
      const ticks = async (n: number): Promise<void> => {
        await pollsSettled(gw, turns, grantedBefore)
        for (const target = getsOf(clockDataset) + n; getsOf(clockDataset) < target;) {
          time.runNext()
          await pollsSettled(gw, turns, grantedBefore)
        }
      }
      // Let a passthrough token's own poller merge into its account's (at most one poll under way).
      await ticks(2)
      const [clockBefore, watchedBefore] = [getsOf(clockDataset), getsOf(watched)]
      await ticks(8)
      const [clockPolls, watchedPolls] = [getsOf(clockDataset) - clockBefore, getsOf(watched) - watchedBefore]
      expect(Math.abs(watchedPolls - clockPolls)).toBeLessThanOrEqual(1)
      for (const sub of subs) expect(sub.events).toEqual([{ data: { datasetStatusChanged: { id: watched, status: 'READ_ONLY', progress: 100 } } }])
    } finally {
      turns.close()
      distinct.dispose()
      single.dispose()
      await ws.dispose()
      await clock.dispose()
    }
  })
})

describe.each(AUTH_MODES)('SSE streams per caller (AUTH_MODE=%s)', (mode) => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startModeGateway(mode, { SSE_MAX_STREAMS_PER_CALLER: '2' }) })
  afterAll(async () => { await gw.close() })

  it('holds each caller to SSE_MAX_STREAMS_PER_CALLER open streams (429, RATE_LIMITED); a closed one frees its place', async () => {
    const token = freshToken(mode, { subject: 'limited' })
    // A passthrough token counts against its account once Visual Layer has accepted it: accepted first, so all three count alike.
    expect((await gw.gql(`{ dataset(id: "${SEED.datasets.ready}") { id } }`, {}, bearer(token))).status).toBe(200)
    const controllers = [new AbortController(), new AbortController()]
    const open = await Promise.all(controllers.map(async (c) => await curl(gw, { query: statusQuery(SEED.datasets.readOnly, true) }, bearer(token), c.signal)))
    expect(open.map((r) => r.status)).toEqual([200, 200])
    const thirdController = new AbortController()
    const third = await curl(gw, { query: statusQuery(SEED.datasets.readOnly, true) }, bearer(token), thirdController.signal)
    if (third.status !== 429) thirdController.abort()
    expect([third.status, await third.json()]).toEqual([429, {
      data: null,
      errors: [{
        message: 'Too many SSE streams: at most 2 per caller. Close one, or run many subscriptions on one stream (single-connection mode).',
        extensions: { code: 'RATE_LIMITED', requestId: expect.any(String) }
      }]
    }])
    // Its place is free once the gateway saw the close.
    const ended = connectionEnd(gw.app.server, 'sse')
    controllers[0]?.abort()
    expect((await ended).open).toBe(1)
    const retry = new AbortController()
    const again = await curl(gw, { query: statusQuery(SEED.datasets.readOnly, true) }, bearer(token), retry.signal)
    retry.abort()
    expect(again.status).toBe(200)
    controllers[1]?.abort()
  })
})

describe('single-connection streams belong to their caller (AUTH_MODE=jwt)', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startModeGateway('jwt') })
  afterAll(async () => { await gw.close() })
  afterEach(() => { gw.emulator.reset() })

  it('another caller cannot open, or add operations to, a stream whose token it learnt: 404, NOT_FOUND', async () => {
    const owner = bearer(freshToken('jwt', { subject: 'alice' }))
    const other = bearer(freshToken('jwt', { subject: 'mallory' }))
    const token = await (await fetch(`${gw.url}/graphql/stream`, { method: 'PUT', headers: owner })).text()
    const open = await fetch(`${gw.url}/graphql/stream`, { headers: { ...other, accept: 'text/event-stream', 'x-graphql-event-stream-token': token } })
    const add = await fetch(`${gw.url}/graphql/stream`, {
      method: 'POST',
      headers: { ...other, 'content-type': 'application/json', 'x-graphql-event-stream-token': token },
      body: JSON.stringify({ query: statusQuery(SEED.datasets.error), extensions: { operationId: '1' } })
    })
    const notFound = {
      data: null,
      errors: [{ message: 'No such event stream, or it has closed: reserve one with PUT and use the token it answers.', extensions: { code: 'NOT_FOUND', requestId: expect.any(String) } }]
    }
    expect([open.status, await open.json(), add.status, await add.json()]).toEqual([404, notFound, 404, notFound])
    expect(gw.emulator.calls()).toEqual([])
  })
})
