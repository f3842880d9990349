import { Writable } from 'node:stream'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Handler } from 'graphql-sse'
import { describe, expect, it } from 'vitest'
import type { DatasetParent } from '../../src/domain/parents.js'
import { streamDatasetEvents } from '../../src/transports/rest/event-stream.js'
import { respond } from '../../src/transports/sse/respond.js'

/**
 * Event streams to a client that never reads (issue 22: slow readers). A socket whose peer does not
 * read stops accepting bytes once the kernel's buffers are full; what the gateway writes after that
 * waits in the response, and before that graphql-sse's own queue (the SSE door waited for each
 * write, so graphql-sse queued every event and ping unsent, without end). Both doors now write as
 * events come and end the stream (destroying the socket, stopping its operations and their pollers)
 * once more than STREAM_MAX_BUFFERED_BYTES wait unsent.
 *
 * The response here is a Writable that never completes a write: a peer that never reads, with no
 * kernel buffer in between, so that the bound is reached after a known number of events.
 */

const BOUND = 4096

/** A response whose client never reads: every write stays buffered. */
function neverReads (): Writable & { writeHead: () => void, statusCode: number } {
  const raw = new Writable({ write () { /* the peer never reads: the write never completes */ } }) as Writable & { writeHead: () => void, statusCode: number }
  raw.writeHead = () => {}
  raw.statusCode = 200
  return raw
}

function fakeRequest (logged: unknown[]): FastifyRequest {
  const log = { info: (...args: unknown[]) => { logged.push(args) }, error: (...args: unknown[]) => { logged.push(args) }, warn: () => {} }
  return { id: 'slow-reader', method: 'GET', url: '/x', headers: {}, body: null, log } as unknown as FastifyRequest
}

function fakeReply (raw: Writable): FastifyReply {
  return { raw, hijack: () => {}, getHeaders: () => ({}) } as unknown as FastifyReply
}

describe('an event stream whose client never reads', () => {
  it('SSE (/graphql/stream): ends the stream once more than the bound waits unsent, and stops its events', async () => {
    const raw = neverReads()
    const closed = new Promise<void>((resolve) => { raw.once('close', () => { resolve() }) })
    let taken = 0
    let stopped = false
    const body = {
      async next () {
        // Events come one a turn of the event loop, fifty at most (an attack bounded in count).
        await new Promise((resolve) => setImmediate(resolve))
        if (taken === 50) return { value: undefined, done: true }
        taken++
        return { value: `event: next\ndata: ${'x'.repeat(1000)}\n\n`, done: false }
      },
      async return () {
        stopped = true
        return { value: undefined, done: true }
      },
      async throw () { return { value: undefined, done: true } },
      [Symbol.asyncIterator] () { return body }
    }
    const handler = (async () => [body, { status: 200, statusText: 'OK', headers: { 'content-type': 'text/event-stream' } }]) as unknown as Handler<FastifyRequest, { reply: FastifyReply }>
    const logged: unknown[] = []
    await respond(handler, fakeRequest(logged), fakeReply(raw), { track: () => () => {}, maxBufferedBytes: BOUND })
    await closed
    expect(raw.destroyed).toBe(true)
    expect(stopped).toBe(true)
    // 1,020 bytes an event: four wait unsent within 4,096 bytes, the fifth goes past them and the stream ends there.
    expect([taken, raw.writableLength]).toEqual([5, 5100])
    expect(logged).toContainEqual([{ buffered: 5100, maxBufferedBytes: BOUND }, 'SSE stream ended: its client does not read what it is sent'])
  })

  it('REST events (/v1/datasets/{id}/events?follow=true): ends the stream once more than the bound waits unsent, and stops its poller', async () => {
    const raw = neverReads() as Writable & { writeHead: () => void, statusCode: number, destroyed: boolean }
    const closed = new Promise<void>((resolve) => { raw.once('close', () => { resolve() }) })
    let taken = 0
    let stopped = false
    const events: AsyncIterator<DatasetParent> = {
      async next () {
        await new Promise((resolve) => setImmediate(resolve))
        if (taken === 50) return { value: undefined, done: true }
        taken++
        // Each state differs (its own ETag), as a dataset whose progress changes.
        return { value: { id: 'd', description: 'x'.repeat(1200), progress: taken } as unknown as DatasetParent, done: false }
      },
      async return () {
        stopped = true
        return { value: undefined, done: true }
      }
    }
    const logged: unknown[] = []
    await streamDatasetEvents({ request: fakeRequest(logged), reply: fakeReply(raw), events, expiresAt: null, track: () => () => {}, maxBufferedBytes: BOUND })
    await closed
    expect(raw.destroyed).toBe(true)
    expect(stopped).toBe(true)
    // 1,294 bytes an event: three wait unsent within 4,096 bytes, the fourth goes past them and the stream ends there.
    expect([taken, raw.writableLength]).toEqual([4, 5176])
    expect(logged).toContainEqual([{ buffered: 5176, maxBufferedBytes: BOUND }, 'Event stream ended: its client does not read what it is sent'])
  })
})
