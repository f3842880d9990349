import type { Socket } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import httpBasics from '../../src/plugins/http-basics.js'
import { rawExchange } from '../helpers/raw-http.js'

/*
 * Requests pipelined on one connection run one at a time, in order (src/plugins/http-basics.ts): the
 * second starts once the first's answer is sent. The route here holds each request until the test
 * releases it, and reports each start, so the test sees what ran when.
 */

interface Held { started: string[], release: (n: string) => void, startedNext: () => Promise<string> }

async function holdingApp (): Promise<{ app: FastifyInstance, url: string, held: Held }> {
  const app = Fastify()
  await app.register(httpBasics, { corsOrigins: [], corsAllowedHeaders: [] })
  const started: string[] = []
  const releases = new Map<string, () => void>()
  let onStart: ((n: string) => void) | null = null
  app.get('/held/:n', async (request) => {
    const { n } = request.params as { n: string }
    started.push(n)
    onStart?.(n)
    await new Promise<void>((resolve) => { releases.set(n, resolve) })
    return { n }
  })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  const held: Held = {
    started,
    release: (n) => {
      const release = releases.get(n)
      if (release === undefined) throw new Error(`request ${n} is not held`)
      release()
    },
    startedNext: async () => await new Promise((resolve) => { onStart = (n) => { onStart = null; resolve(n) } })
  }
  return { app, url, held }
}

const get = (n: string): string => `GET /held/${n} HTTP/1.1\r\nhost: gateway\r\n\r\n`

describe('requests pipelined on one connection', () => {
  let app: FastifyInstance | undefined
  afterEach(async () => { await app?.close() })

  it('run one at a time: the second starts once the first is answered, and the answers come in order', async () => {
    const setup = await holdingApp()
    app = setup.app
    const { held } = setup
    const firstStarted = held.startedNext()
    const exchange = await rawExchange(setup.url, get('1') + get('2') + get('3'))
    expect(await firstStarted).toBe('1')
    // The first is held: a second request on another connection starts meanwhile, the pipelined ones do not.
    const otherStarted = held.startedNext()
    const other = await rawExchange(setup.url, get('other'))
    expect(await otherStarted).toBe('other')
    expect(held.started).toEqual(['1', 'other'])
    held.release('other')
    await other.firstData
    other.socket.destroy()

    const secondStarted = held.startedNext()
    held.release('1')
    expect(await secondStarted).toBe('2')
    expect(held.started).toEqual(['1', 'other', '2'])
    const thirdStarted = held.startedNext()
    held.release('2')
    expect(await thirdStarted).toBe('3')
    held.release('3')
    await new Promise<void>((resolve) => { exchange.socket.on('data', () => { if (exchange.text().split('HTTP/1.1 200 OK').length === 4) resolve() }) })
    expect(exchange.text().match(/\{"n":"\w+"\}/g)).toEqual(['{"n":"1"}', '{"n":"2"}', '{"n":"3"}'])
    exchange.socket.destroy()
  })

  it('start one per event-loop turn across connections once their predecessors are answered, in the order they became ready', async () => {
    // Answered at once: without the turns, each connection's requests would run back to back in the turn
    // that read them, and Node accepts one new connection per turn (src/plugins/http-basics.ts).
    app = Fastify()
    await app.register(httpBasics, { corsOrigins: [], corsAllowedHeaders: [] })
    let turn = 0
    let counting = true
    // Counts the loop's turns: an immediate set while immediates run waits for the next turn.
    const count = (): void => { turn++; if (counting) setImmediate(count) }
    setImmediate(count)
    const starts: Array<{ n: string, turn: number }> = []
    app.get('/now/:n', async (request) => {
      const { n } = request.params as { n: string }
      starts.push({ n, turn })
      return { n }
    })
    const url = await app.listen({ host: '127.0.0.1', port: 0 })
    const now = (n: string): string => `GET /now/${n} HTTP/1.1\r\nhost: gateway\r\n\r\n`
    const connections = await Promise.all(['a', 'b', 'c'].map(async (c) => await rawExchange(url, [1, 2, 3, 4].map((i) => now(`${c}${i}`)).join(''))))
    await Promise.all(connections.map(async (exchange) => {
      await new Promise<void>((resolve) => {
        const done = (): void => { if (exchange.text().split('HTTP/1.1 200 OK').length === 5) resolve() }
        exchange.socket.on('data', done)
        done()
      })
      exchange.socket.destroy()
    }))
    counting = false
    // Each connection's answers in order; every request that waited for a predecessor started in a turn of its own.
    for (const c of ['a', 'b', 'c']) expect(starts.filter((start) => start.n.startsWith(c)).map((start) => start.n)).toEqual([`${c}1`, `${c}2`, `${c}3`, `${c}4`])
    const waited = starts.filter((start) => !start.n.endsWith('1'))
    expect(waited).toHaveLength(9)
    expect(new Set(waited.map((start) => start.turn)).size).toBe(9)
  })

  it('that wait when the client goes away are never run', async () => {
    const setup = await holdingApp()
    app = setup.app
    const { held } = setup
    const firstStarted = held.startedNext()
    const serverSocket = new Promise<Socket>((resolve) => { setup.app.server.once('connection', resolve) })
    const exchange = await rawExchange(setup.url, get('1') + get('2'))
    expect(await firstStarted).toBe('1')
    // The server reads the client's end (Node's HTTP server aborts the requests waiting on it first).
    const ended = new Promise((resolve) => { void serverSocket.then((socket) => socket.once('end', resolve)) })
    exchange.socket.destroy()
    await ended
    // The first request's answer goes nowhere; the second, which waited for it, does not start. A request
    // on a new connection proves the server went on: it starts, and it is the only other one.
    held.release('1')
    const nextStarted = held.startedNext()
    const next = await rawExchange(setup.url, get('next'))
    expect(await nextStarted).toBe('next')
    expect(held.started).toEqual(['1', 'next'])
    held.release('next')
    await next.firstData
    next.socket.destroy()
  })
})
