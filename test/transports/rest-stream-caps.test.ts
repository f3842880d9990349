import { get, type IncomingMessage } from 'node:http'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import type { TestGateway } from '../helpers/gateway.js'
import { freshToken, startModeGateway } from '../helpers/modes.js'
import { nextServerSocket } from '../helpers/raw-http.js'

/**
 * REST event streams per caller (issue 22, item 10): 1,250 `GET /v1/datasets/{id}/events?follow=true`
 * from one token all got 200. REST_MAX_STREAMS_PER_CALLER caps them as SSE_MAX_STREAMS_PER_CALLER
 * caps /graphql/stream (the same caller slots, across replicas with REDIS_URL): one more is a 429
 * problem naming the cap, before any upstream call; another caller is not affected; a closed
 * stream frees its slot.
 */

interface OpenStream {
  status: number
  /** The first event (200), or the whole body (a refusal). */
  text: string
  /** Closes the stream; settles once the gateway has let go of its socket. */
  close: () => Promise<void>
}

describe('REST event streams per caller (AUTH_MODE=jwt, REST_MAX_STREAMS_PER_CALLER=2)', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startModeGateway('jwt', { REST_MAX_STREAMS_PER_CALLER: '2', POLL_INTERVAL_MS: '60000' }) })
  afterAll(async () => { await gw.close() })
  beforeEach(() => { gw.emulator.clearCalls() })

  /** A stream on a connection of its own, so that its socket is its own and closing it is seen at once. */
  const open = async (token: string, requestId: string, dataset: string = SEED.datasets.draft): Promise<OpenStream> => {
    const server = nextServerSocket(gw.app)
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      get(`${gw.url}/v1/datasets/${dataset}/events?follow=true`, { agent: false, headers: { authorization: `Bearer ${token}`, 'x-request-id': requestId } }, resolve)
        .on('error', reject)
    })
    const status = res.statusCode ?? 0
    const text = await new Promise<string>((resolve) => {
      let text = ''
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString()
        if (status === 200 && text.includes('\n\n')) resolve(text)
      })
      res.on('end', () => { resolve(text) })
    })
    const { closed } = await server
    return { status, text, close: async () => { res.destroy(); await closed } }
  }

  it('refuses a caller\'s third stream with a 429 problem naming the cap, at no upstream cost; another caller still gets one', async () => {
    const alice = freshToken('jwt', { subject: 'alice' }) ?? ''
    const first = await open(alice, 'alice-1')
    const second = await open(alice, 'alice-2', SEED.datasets.ready)
    expect([first.status, second.status]).toEqual([200, 200])
    gw.emulator.clearCalls()

    const third = await open(alice, 'alice-3')
    expect([third.status, JSON.parse(third.text)]).toEqual([429, {
      type: 'urn:vl-gateway:problem:rate-limited',
      title: 'Too many requests',
      status: 429,
      detail: 'Too many event streams: at most 2 per caller at once (REST_MAX_STREAMS_PER_CALLER). Close one before opening another.',
      code: 'RATE_LIMITED',
      requestId: 'alice-3'
    }])
    expect(gw.emulator.calls()).toEqual([])

    const bob = await open(freshToken('jwt', { subject: 'bob' }) ?? '', 'bob-1')
    expect(bob.status).toBe(200)
    await Promise.all([first.close(), second.close(), bob.close()])
  })

  it('frees the slot of a stream its client closed', async () => {
    const token = freshToken('jwt', { subject: 'carol' }) ?? ''
    const first = await open(token, 'carol-1')
    const second = await open(token, 'carol-2')
    expect((await open(token, 'carol-3')).status).toBe(429)
    await first.close()
    const again = await open(token, 'carol-4')
    expect(again.status).toBe(200)
    expect((await open(token, 'carol-5')).status).toBe(429)
    await Promise.all([second.close(), again.close()])
  })

  it('frees the slot of a stream that ended by itself, and of one refused before it opened', async () => {
    const token = freshToken('jwt', { subject: 'dave' }) ?? ''
    // Without follow, a READY dataset's stream sends its state and completes.
    const ended = await new Promise<string>((resolve, reject) => {
      get(`${gw.url}/v1/datasets/${SEED.datasets.ready}/events`, { agent: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
        let text = ''
        res.on('data', (chunk: Buffer) => { text += chunk.toString() })
        res.on('end', () => { resolve(text) })
      }).on('error', reject)
    })
    expect(ended).toContain('event: complete')
    const missing = await open(token, 'dave-404', SEED.datasets.secondaryReady)
    expect(missing.status).toBe(404)
    const streams = [await open(token, 'dave-1'), await open(token, 'dave-2')]
    expect(streams.map((stream) => stream.status)).toEqual([200, 200])
    await Promise.all(streams.map(async (stream) => { await stream.close() }))
  })
})
