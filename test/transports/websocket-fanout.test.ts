import { EventEmitter, once } from 'node:events'
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { SEED } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { ManualTime } from '../helpers/manual-time.js'
import { pollNow } from '../helpers/polls.js'
import { when } from '../helpers/wait.js'

/*
 * One change to many subscriptions of one connection (src/transports/websocket/shared-frames.ts and
 * socket-writer.ts): each `next` message is the payload serialised once with the subscription's id
 * spliced in, byte for byte what graphql-ws writes; the messages of one change leave in one write;
 * and a client that stops reading holds at most WS_MAX_BUFFERED_BYTES of them before it is closed
 * with 1013. The server's TCP socket is the real one; only its writes are watched, or held (a peer
 * that never reads, with no kernel buffer in between, so that the bound is met after a known count).
 */

const BOUND = 4096
const DATASET = SEED.datasets.indexing
const QUERY = `subscription { datasetStatusChanged(datasetId: "${DATASET}", follow: true) { id status progress } }`

interface Peer { socket: WebSocket, texts: string[], closed: Promise<{ code: number, reason: string }>, arrived: EventEmitter }

async function peer (gw: TestGateway): Promise<Peer> {
  const socket = new WebSocket(`${gw.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws')
  const texts: string[] = []
  const arrived = new EventEmitter()
  socket.on('message', (data) => {
    texts.push(String(data))
    arrived.emit('message')
  })
  const closed = new Promise<{ code: number, reason: string }>((resolve) => {
    socket.once('close', (code, reason) => {
      resolve({ code, reason: reason.toString() })
      arrived.emit('message')
    })
  })
  await once(socket, 'open')
  socket.send(JSON.stringify({ type: 'connection_init', payload: {} }))
  const client = { socket, texts, closed, arrived }
  await received(client, 'connection_ack', () => texts.length === 1)
  return client
}

/** Resolves once `done()` holds, looked at on each message the peer receives (test/helpers/wait.ts' `when`); fails if the socket closes first. */
async function received (client: Peer, what: string, done: () => boolean): Promise<void> {
  await when<undefined>(what, (listener) => {
    client.arrived.on('message', listener)
    return () => { client.arrived.off('message', listener) }
  }, () => done() || client.socket.readyState === WebSocket.CLOSED)
  if (!done()) throw new Error(`closed after ${client.texts.length} messages, before ${what}`)
}

/** The server's side of the next socket upgraded: its writes (each a write or writev call) counted, or held until released. */
class ServerSide {
  socket: Socket | null = null
  writes = 0
  private held: Array<() => void> | null = null
  private originals: Pick<Socket, '_write' | '_writev'> | null = null

  constructor (gw: TestGateway) {
    const capture = (_request: IncomingMessage, socket: Socket): void => {
      gw.app.server.off('upgrade', capture)
      this.socket = socket
    }
    gw.app.server.prependListener('upgrade', capture)
  }

  /** Counts writes from now on; with `hold`, none completes (the peer reads nothing) until release(). */
  watch (hold: boolean): void {
    const socket = this.socket
    if (socket === null) throw new Error('no socket upgraded yet')
    const write = socket._write.bind(socket)
    const writev = socket._writev?.bind(socket)
    this.originals = { _write: socket._write, _writev: socket._writev }
    if (hold) this.held = []
    socket._write = (chunk, encoding, callback) => {
      this.writes++
      if (this.held === null) write(chunk, encoding, callback)
      else this.held.push(() => { write(chunk, encoding, callback) })
    }
    socket._writev = (chunks, callback) => {
      this.writes++
      if (this.held === null) writev?.(chunks, callback)
      else this.held.push(() => { writev?.(chunks, callback) })
    }
  }

  /** The held writes go out, and every later one at once. */
  release (): void {
    const socket = this.socket as Socket
    const held = this.held ?? []
    this.held = null
    if (this.originals !== null) Object.assign(socket, this.originals)
    for (const write of held) write()
  }
}

const subscribe = (client: Peer, id: string): void => { client.socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query: QUERY } })) }
const nexts = (client: Peer): Array<{ id: string, payload: unknown }> =>
  client.texts.map((text) => JSON.parse(text) as { type: string, id: string, payload: unknown }).filter((m) => m.type === 'next')

describe('one change to many subscriptions of a connection', () => {
  let gw: TestGateway
  const time = new ManualTime()
  const peers: Peer[] = []
  beforeAll(async () => {
    gw = await startTestGateway({ POLL_INTERVAL_MS: '250', WS_MAX_BUFFERED_BYTES: String(BOUND), WS_CLOSE_TIMEOUT_MS: '60000' }, { liveTime: time })
  })
  afterEach(() => { for (const client of peers.splice(0)) client.socket.terminate() })
  afterAll(async () => { await gw.close() })

  it('writes each next message as graphql-ws would, its id spliced into the shared payload, all of one change in one write', async () => {
    const server = new ServerSide(gw)
    const client = await peer(gw)
    peers.push(client)
    const ids = Array.from({ length: 20 }, (_, i) => `sub-${i + 10}`)
    for (const id of ids) subscribe(client, id)
    await received(client, '20 next messages', () => nexts(client).length === 20)
    server.watch(false)
    gw.emulator.advance(3000)
    await pollNow(gw, time, DATASET)
    await received(client, '40 next messages', () => nexts(client).length === 40)
    expect(server.writes).toBe(1)
    const change = client.texts.slice(-20)
    const payload = (JSON.parse(change[0] ?? '') as { payload: unknown }).payload
    // Byte for byte: the message graphql-ws makes of the same payload, under each subscription's id.
    expect(change.sort()).toEqual(ids.map((id) => JSON.stringify({ id, type: 'next', payload })).sort())
    expect(nexts(client).slice(0, 20).map((m) => m.payload)).not.toContainEqual(payload)
  })

  it('holds at most WS_MAX_BUFFERED_BYTES of next messages for a client that stops reading, then closes it with 1013', async () => {
    const server = new ServerSide(gw)
    const stalled = await peer(gw)
    const healthy = await peer(gw)
    peers.push(stalled, healthy)
    const ids = Array.from({ length: 60 }, (_, i) => `s${i + 10}`)
    for (const id of ids) subscribe(stalled, id)
    subscribe(healthy, 'h1')
    await received(stalled, '60 next messages', () => nexts(stalled).length === 60)
    await received(healthy, '1 next messages', () => nexts(healthy).length === 1)
    server.watch(true)
    const from = gw.logs.entries().length
    gw.emulator.advance(3000)
    await pollNow(gw, time, DATASET)
    await received(healthy, '2 next messages', () => nexts(healthy).length === 2)
    await gw.logs.logged('the slow reader\'s line', (entry) => entry.msg === 'WebSocket closed: the client reads too slowly', { from })
    // Every message of the change has the same length (ids of one length, one payload): as many as fit in the bound wait, no more.
    const payload = nexts(healthy)[1]?.payload
    const length = Buffer.byteLength(JSON.stringify({ id: 's10', type: 'next', payload }))
    const frame = length + (length < 126 ? 2 : 4)
    const fitting = Math.floor(BOUND / frame)
    expect(fitting).toBeLessThan(60)
    // What waits: those messages and the close frame after them (code and reason), nothing else.
    const reason = `The client reads too slowly: over ${BOUND} bytes were waiting to be sent to it. Reconnect.`
    expect((server.socket as Socket).writableLength).toBe(fitting * frame + 2 + 2 + Buffer.byteLength(reason))
    server.release()
    expect(await stalled.closed).toEqual({ code: 1013, reason })
    const after = nexts(stalled).slice(60)
    expect(after.length).toBe(fitting)
    expect(after.every((m) => JSON.stringify(m.payload) === JSON.stringify(payload))).toBe(true)
    expect(gw.logs.entries().slice(from).filter((e) => e.msg === 'WebSocket closed: the client reads too slowly')
      .map(({ level, bufferedBytes, maxBufferedBytes }) => ({ level, bufferedBytes, maxBufferedBytes })))
      .toEqual([{ level: 30, bufferedBytes: fitting * frame, maxBufferedBytes: BOUND }])
    // The healthy connection goes on: the next change reaches it.
    gw.emulator.advance(3000)
    await pollNow(gw, time, DATASET)
    await received(healthy, '3 next messages', () => nexts(healthy).length === 3)
  })
})
