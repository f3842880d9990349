import type { FastifyBaseLogger } from 'fastify'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { getEventListeners } from 'node:events'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { UpstreamSettings } from '../../src/config.js'
import { UpstreamNetworkError } from '../../src/upstream/errors.js'
import type { Answer, Exchange } from '../../src/upstream/exchange.js'
import { createSender, startDeadline, type Sender } from '../../src/upstream/send.js'

/*
 * One try of a call over real HTTP, against a server that misbehaves on purpose: an answer over the
 * size cap, a body cut before its end, an answer held past the deadline. Each ends the call with the
 * error that names it, never a hang; and a call that ended leaves nothing behind on its caller's signal.
 */

const LIMIT = 1000
let server: Server
let sender: Sender
/** Requests the server holds, by path, until the test answers them. */
const held = new Map<string, { req: IncomingMessage, res: ServerResponse }>()
const arrivals = new Set<(path: string) => void>()

const arrived = async (path: string): Promise<{ req: IncomingMessage, res: ServerResponse }> => {
  const now = held.get(path)
  if (now !== undefined) return now
  return await new Promise((resolve) => {
    const listener = (at: string): void => {
      if (at !== path) return
      arrivals.delete(listener)
      resolve(held.get(path)!)
    }
    arrivals.add(listener)
  })
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? ''
    if (path === '/ok') {
      res.setHeader('content-type', 'application/json')
      res.end('{"a":1}')
    } else if (path === '/big') {
      // Chunked, so the cap is met while reading, not from a header.
      res.write('"' + 'x'.repeat(LIMIT))
      res.end('"')
    } else if (path === '/cut') {
      res.writeHead(200, { 'content-length': '100' })
      res.write('{"half":')
      // Half the promised bytes, then the connection is gone.
      setImmediate(() => res.socket?.destroy())
    } else {
      held.set(path, { req, res })
      for (const listener of [...arrivals]) listener(path)
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const settings = { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: 4, connectTimeoutMs: 2000, timeoutMs: 5000, maxResponseBytes: LIMIT } as unknown as UpstreamSettings & { baseUrl: string }
  sender = createSender({ settings, serviceTokens: null, logger: pino({ level: 'silent' }) as unknown as FastifyBaseLogger })
})

afterAll(async () => {
  for (const { res } of held.values()) res.destroy()
  await sender.close()
  await new Promise<void>((resolve) => server.close(() => { resolve() }))
})

const exchange = (path: string, signal?: AbortSignal): Exchange => ({
  request: { method: 'GET', path, endpoint: path, what: `the answer at ${path}` } as Exchange['request'],
  call: { credential: null, signal } as Exchange['call'],
  failed: { method: 'GET', what: `the answer at ${path}`, credential: 'service' }
})

describe('one try of a call', () => {
  it('reads the answer, and leaves no listener on the caller\'s signal once ended', async () => {
    const caller = new AbortController()
    const attempt = startDeadline(exchange('/ok', caller.signal), 5000)
    // While the call runs, its deadline follows the caller's signal.
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(1)
    const answer: Answer = await sender.send(attempt)
    expect([answer.status, answer.body, answer.token]).toEqual([200, { a: 1 }, null])
    attempt.end()
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0)
    // The caller leaving after the end aborts nothing of the call's.
    caller.abort()
    expect([attempt.signal.aborted, attempt.deadline.passed]).toEqual([false, false])
  })

  it('refuses an answer over the size cap while reading it', async () => {
    const attempt = startDeadline(exchange('/big'), 5000)
    const error = await sender.send(attempt).then(() => null, (err: unknown) => err)
    attempt.end()
    expect(error).toMatchObject({ code: 'UPSTREAM_ERROR', message: `Visual Layer's answer for the answer at /big is larger than the gateway accepts (${LIMIT} bytes).` })
  })

  it('ends a call whose body stops before its end with a retryable network error', async () => {
    const attempt = startDeadline(exchange('/cut'), 5000)
    const error = await sender.send(attempt).then(() => null, (err: unknown) => err)
    attempt.end()
    expect(error).toBeInstanceOf(UpstreamNetworkError)
    expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', retryable: true, message: 'Visual Layer could not be reached for the answer at /cut. Try again shortly.' })
  })

  it('ends a held call at its deadline, as a timeout that is not tried again', async () => {
    const attempt = startDeadline(exchange('/held-deadline'), 100)
    const pending = sender.send(attempt).then(() => null, (err: unknown) => err)
    // Held by the server, or (on a machine too busy to connect in 100 ms) not even sent: the deadline ends it either way.
    await Promise.race([arrived('/held-deadline'), pending])
    const error = await pending
    attempt.end()
    expect(attempt.deadline.passed).toBe(true)
    expect(attempt.signal.reason).toMatchObject({ name: 'TimeoutError' })
    expect(error).toMatchObject({ code: 'UPSTREAM_TIMEOUT', retryable: false, message: 'Visual Layer did not answer in time for the answer at /held-deadline. Try again shortly.' })
  })

  it('ends a held call when its caller leaves, with the caller\'s reason, and the deadline not passed', async () => {
    const caller = new AbortController()
    const attempt = startDeadline(exchange('/held-cancel', caller.signal), 5000)
    const pending = sender.send(attempt).then(() => null, (err: unknown) => err)
    const { req } = await arrived('/held-cancel')
    const gone = new Promise((resolve) => req.socket.once('close', resolve))
    const reason = new Error('the caller left')
    caller.abort(reason)
    expect(await pending).toBe(reason)
    attempt.end()
    expect(attempt.deadline.passed).toBe(false)
    // The server sees the connection closed: the call was dropped, not left running.
    await gone
  })

  it('is aborted from the start when its caller has already left', async () => {
    const caller = new AbortController()
    caller.abort(new Error('gone before'))
    const attempt = startDeadline(exchange('/ok', caller.signal), 5000)
    expect(attempt.signal.aborted).toBe(true)
    expect(attempt.signal.reason).toEqual(new Error('gone before'))
    await expect(sender.send(attempt)).rejects.toEqual(new Error('gone before'))
    attempt.end()
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0)
  })
})
