import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import type { TestGateway } from '../helpers/gateway.js'
import { AUTH_MODES, freshToken, inTokenModes, startModeGateway } from '../helpers/modes.js'
import { ManualTime } from '../helpers/manual-time.js'
import { allPollersStopped, getsOf, nextRound, pollNow } from '../helpers/polls.js'
import { bearer, openEventStream, type EventStreamRecorded } from '../helpers/sse.js'

/*
 * GET /v1/datasets/{id}?live=1 (or Accept: text/event-stream): the resource, with the includes of the
 * plain GET, as Server-Sent Events each time it changes, on the shared pollers and the stream machinery
 * of /v1/datasets/{id}/events (its cap per caller, its buffer bound, token expiry: rest-stream-caps,
 * rest-events-leave and the hostile rest-events door hold those for both). A plain SSE client
 * (eventsource-parser), every auth mode, tokens that expire; the pollers' time is the test's.
 */

const INCLUDES = 'creationStatus,models,enrichment'

describe.each(AUTH_MODES)('REST live dataset (AUTH_MODE=%s)', (mode) => {
  let gw: TestGateway
  const time = new ManualTime()
  const streams: EventStreamRecorded[] = []
  const token = (ttlSec = 300): string | null => freshToken(mode, { ttlSec })
  let caller: Record<string, string>
  const open = async (path: string, headers: Record<string, string> = {}): Promise<EventStreamRecorded> => {
    const stream = await openEventStream(`${gw.url}${path}`, { ...caller, ...headers })
    streams.push(stream)
    return stream
  }
  const plain = async (path: string): Promise<{ status: number, etag: string | null, body: unknown }> => {
    const res = await fetch(`${gw.url}${path}`, { headers: caller })
    return { status: res.status, etag: res.headers.get('etag'), body: await res.json() }
  }
  beforeAll(async () => {
    gw = await startModeGateway(mode, { POLL_INTERVAL_MS: '1000', REST_MAX_STREAMS_PER_CALLER: '2' }, { liveTime: time })
  })
  afterEach(async () => {
    for (const stream of streams.splice(0)) stream.stop()
    await allPollersStopped(gw)
  })
  afterAll(async () => { await gw.close() })

  it('streams the dataset with the plain GET\'s includes, now and at each change, and goes on past READY', async () => {
    gw.emulator.reset()
    caller = bearer(token())
    const id = SEED.datasets.indexing
    const stream = await open(`/v1/datasets/${id}?live=1&include=${INCLUDES}`)
    expect(stream.status).toBe(200)
    expect(stream.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    await stream.received(1)
    const now = await plain(`/v1/datasets/${id}?include=${INCLUDES}`)
    expect(stream.events[0]).toEqual({ event: 'dataset', id: now.etag?.slice(1, -1), data: JSON.stringify(now.body) })
    gw.emulator.advance(31_000)
    expect(await pollNow(gw, time, id)).toMatchObject({ outcome: 'changed' })
    await stream.received(2)
    const ready = await plain(`/v1/datasets/${id}?include=${INCLUDES}`)
    expect(ready.body).toMatchObject({ status: 'READY', creationStatus: { status: 'READY', progress: 100 } })
    expect(stream.events[1]).toEqual({ event: 'dataset', id: ready.etag?.slice(1, -1), data: JSON.stringify(ready.body) })
    // READY ends /events without follow; the live resource goes on: a poll later, no event and no end.
    expect(await pollNow(gw, time, id)).toMatchObject({ outcome: 'unchanged' })
    let ended = false
    void stream.done.then(() => { ended = true })
    await plain(`/v1/datasets/${id}`)
    expect(ended).toBe(false)
    expect(stream.events).toHaveLength(2)
  })

  it('streams on Accept: text/event-stream without ?live, answers JSON with ?live=0, and refuses any other live with 400 and no upstream call', async () => {
    gw.emulator.reset()
    caller = bearer(token())
    const id = SEED.datasets.ready
    const stream = await open(`/v1/datasets/${id}`, { accept: 'text/event-stream' })
    await stream.received(1)
    const now = await plain(`/v1/datasets/${id}`)
    expect(stream.events).toEqual([{ event: 'dataset', id: now.etag?.slice(1, -1), data: JSON.stringify(now.body) }])
    const json = await fetch(`${gw.url}/v1/datasets/${id}?live=0`, { headers: { ...caller, accept: 'text/event-stream' } })
    expect(json.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(await json.json()).toEqual(now.body)
    gw.emulator.clearCalls()
    const bad = await fetch(`${gw.url}/v1/datasets/${id}?live=yes`, { headers: { ...caller, 'x-request-id': 'live-400' } })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toEqual({
      type: 'urn:vl-gateway:problem:bad-user-input',
      title: 'Bad request',
      status: 400,
      detail: 'Query parameter live must be 1, true, 0 or false.',
      code: 'BAD_USER_INPUT',
      requestId: 'live-400'
    })
    expect(gw.emulator.calls()).toEqual([])
  })

  it('rides the poller /events uses: both streams, one poller, one GET a poll; and counts against REST_MAX_STREAMS_PER_CALLER with /events', async () => {
    gw.emulator.reset()
    caller = bearer(token())
    const id = SEED.datasets.draft
    // passthrough: a token Visual Layer has accepted counts as its API key's (an unproven one has a lane of its own).
    expect((await plain('/v1/datasets')).status).toBe(200)
    const firstPoll = nextRound(gw, id)
    const live = await open(`/v1/datasets/${id}?live=1`)
    const events = await open(`/v1/datasets/${id}/events?follow=true`)
    await Promise.all([live.received(1), events.received(1), firstPoll])
    expect(gw.app.live.size).toBe(1)
    expect(getsOf(gw, id)).toBe(1)
    expect(JSON.parse(live.events[0]?.data ?? '')).toEqual(JSON.parse(events.events[0]?.data ?? ''))
    expect(await pollNow(gw, time, id)).toMatchObject({ outcome: 'unchanged' })
    expect(getsOf(gw, id)).toBe(2)
    // A third stream of the same caller, live or not, is refused before any upstream call.
    const third = await fetch(`${gw.url}/v1/datasets/${SEED.datasets.ready}?live=1`, { headers: { ...caller, 'x-request-id': 'live-429' } })
    expect(third.status).toBe(429)
    expect(await third.json()).toMatchObject({
      code: 'RATE_LIMITED',
      detail: 'Too many event streams: at most 2 per caller at once (REST_MAX_STREAMS_PER_CALLER). Close one before opening another.',
      requestId: 'live-429'
    })
    expect(getsOf(gw, SEED.datasets.ready)).toBe(0)
  })

  it('answers 404 as a problem, before the stream opens, for a dataset one may not see', async () => {
    gw.emulator.reset()
    caller = bearer(token())
    const res = await fetch(`${gw.url}/v1/datasets/${SEED.datasets.secondaryReady}?live=1`, { headers: caller })
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ code: 'NOT_FOUND', detail: `Visual Layer has no dataset ${SEED.datasets.secondaryReady}, or you may not see it.` })
  })

  inTokenModes(mode)('ends the stream with an UNAUTHENTICATED problem event when the token expires', async () => {
    gw.emulator.reset()
    caller = bearer(token(2))
    const stream = await open(`/v1/datasets/${SEED.datasets.ready}?live=1`)
    await stream.received(1)
    await stream.done
    expect(stream.events.map((event) => event.event)).toEqual(['dataset', 'problem'])
    expect(JSON.parse(stream.events[1]?.data ?? '')).toMatchObject({
      code: 'UNAUTHENTICATED',
      detail: 'The token expired: reconnect with a fresh one (send Last-Event-ID to skip the state already seen).'
    })
  })
})
