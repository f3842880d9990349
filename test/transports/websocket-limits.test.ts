import { EventEmitter, once } from 'node:events'
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { SEED } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { connectionParams, modeEnv, startModeGateway } from '../helpers/modes.js'
import { ManualTime } from '../helpers/manual-time.js'
import { getsOf, pollerStopped, pollNow } from '../helpers/polls.js'

/*
 * What one WebSocket may cost the gateway, each bound met by a real `ws` client: the bytes queued
 * for a client that does not read (WS_MAX_BUFFERED_BYTES), the bytes a socket may send before its
 * connection_init is acknowledged (WS_MAX_INIT_BYTES), ping payloads echoed (WS_MAX_PING_PAYLOAD_BYTES),
 * messages a second (WS_MESSAGES_PER_SECOND, WS_MESSAGE_BURST) and their bytes (WS_RECEIVED_BYTES_PER_SECOND,
 * WS_RECEIVED_BYTES_BURST), operations started a second
 * (WS_SUBSCRIBES_PER_SECOND, WS_SUBSCRIBE_BURST) and operation ids (WS_MAX_OPERATION_ID_LENGTH).
 * Rates run on a clock the test holds (frozen unless a test moves it), so every count is exact.
 */

interface Message { type: string, id?: string, payload?: unknown }
interface Closed { code: number, reason: string }

/** A raw graphql-transport-ws client that records what it receives, in order. */
interface Peer {
  socket: WebSocket
  messages: Message[]
  closed: Promise<Closed>
  send: (message: unknown) => void
  /** Resolves once `count` messages of `type` have arrived; rejects if the socket closes first. */
  received: (type: string, count: number) => Promise<void>
}

function peer (gw: TestGateway): Peer {
  const socket = new WebSocket(`${gw.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws')
  const messages: Message[] = []
  const events = new EventEmitter()
  socket.on('message', (data) => {
    messages.push(JSON.parse(String(data)) as Message)
    events.emit('message')
  })
  const closed = new Promise<Closed>((resolve) => {
    socket.once('close', (code, reason) => {
      resolve({ code, reason: reason.toString() })
      events.emit('message')
    })
  })
  const count = (type: string): number => messages.filter((m) => m.type === type).length
  return {
    socket,
    messages,
    closed,
    send: (message) => { socket.send(typeof message === 'string' ? message : JSON.stringify(message)) },
    received: async (type, n) => {
      while (count(type) < n) {
        if (socket.readyState === WebSocket.CLOSED) throw new Error(`closed after ${count(type)} ${type} messages of ${n}: ${JSON.stringify(messages.at(-1))}`)
        await once(events, 'message')
      }
    }
  }
}

async function opened (client: Peer): Promise<void> {
  if (client.socket.readyState === WebSocket.OPEN) return
  await once(client.socket, 'open')
}

/** A peer whose connection_init (with `params`) was acknowledged. */
async function acknowledged (gw: TestGateway, params: Record<string, unknown> = {}): Promise<Peer> {
  const client = peer(gw)
  await opened(client)
  client.send({ type: 'connection_init', payload: params })
  await client.received('connection_ack', 1)
  return client
}

/** The client stops reading its socket: what the server sends stays in the server's buffers. */
const stopReading = (client: Peer): void => { (client.socket as unknown as { _socket: Socket })._socket.pause() }
const readAgain = (client: Peer): void => { (client.socket as unknown as { _socket: Socket })._socket.resume() }

/**
 * The server's side of each WebSocket, seen from the HTTP server's `upgrade` event: every write on
 * it, what Node queues in user space after each (ws' `bufferedAmount`: what the gateway holds for
 * the client, beyond what the kernel took), and whether a close frame was written.
 */
class ServerSockets extends EventEmitter {
  private readonly sockets: Array<{ written: number, maxQueued: number, closeFrame: boolean }> = []

  constructor (gw: TestGateway) {
    super()
    gw.app.server.prependListener('upgrade', (_request: IncomingMessage, socket: Socket) => {
      const seen = { written: 0, maxQueued: 0, closeFrame: false }
      this.sockets.push(seen)
      const write = socket.write.bind(socket) as (chunk: Buffer | string, ...rest: unknown[]) => boolean
      socket.write = ((chunk: Buffer | string, ...rest: unknown[]) => {
        // ws writes each frame's header apart: 0x88 opens a close frame (FIN + opcode 8).
        if (Buffer.isBuffer(chunk) && chunk[0] === 0x88) seen.closeFrame = true
        const result = write(chunk, ...rest)
        seen.written += chunk.length
        if (!seen.closeFrame) seen.maxQueued = Math.max(seen.maxQueued, socket.writableLength)
        this.emit('write')
        return result
      }) as typeof socket.write
    })
  }

  /** The last socket upgraded. */
  last (): { written: number, maxQueued: number, closeFrame: boolean } {
    const seen = this.sockets.at(-1)
    if (seen === undefined) throw new Error('no socket upgraded yet')
    return seen
  }
}

const peers: Peer[] = []
afterEach(() => { for (const client of peers.splice(0)) client.socket.terminate() })
const kept = (client: Peer): Peer => {
  peers.push(client)
  return client
}

describe('a client that never reads (WS_MAX_BUFFERED_BYTES)', () => {
  const BOUND = 64 * 1024
  let gw: TestGateway
  let server: ServerSockets
  beforeAll(async () => {
    gw = await startTestGateway({
      ...modeEnv('none'),
      WS_MAX_BUFFERED_BYTES: String(BOUND),
      WS_MAX_PING_PAYLOAD_BYTES: String(32 * 1024),
      // The pings themselves are not what this test bounds.
      WS_MESSAGE_BURST: '100000',
      WS_RECEIVED_BYTES_BURST: String(1024 * 1024 * 1024)
    }, { clock: () => 0 })
    server = new ServerSockets(gw)
  })
  afterAll(async () => { await gw.close() })

  it('closes the socket with 1013 once its unsent bytes would pass the bound, and never holds more than the bound', async () => {
    const client = kept(await acknowledged(gw))
    const seen = server.last()
    stopReading(client)
    // Pings whose pongs (16 KiB each) pile up on the server once the kernel's buffers are full;
    // sent a megabyte at a time until the server closes, at most 64 MB.
    const payload = { pad: 'x'.repeat(16 * 1024) }
    const pong = JSON.stringify({ type: 'pong', payload })
    const pongFrame = 4 + Buffer.byteLength(pong)
    const before = seen.written
    let sent = 0
    for (let batch = 0; batch < 64 && !seen.closeFrame; batch++) {
      for (let i = 0; i < 64; i++) client.send({ type: 'ping', payload })
      sent += 64
      // Every ping of the batch answered (its pong written, queued or not), or the socket closing.
      while (!seen.closeFrame && seen.written < before + sent * pongFrame) await once(server, 'write')
    }
    expect(seen.closeFrame).toBe(true)
    expect(seen.maxQueued).toBeLessThanOrEqual(BOUND)
    readAgain(client)
    expect(await client.closed).toEqual({
      code: 1013,
      reason: `The client reads too slowly: over ${BOUND} bytes were waiting to be sent to it. Reconnect.`
    })
    // What was queued before the bound reached the client: pongs only, each of them whole.
    const pongs = client.messages.slice(1)
    expect(pongs.filter((m) => JSON.stringify(m) !== pong)).toEqual([])
    expect(pongs.length).toBeLessThan(sent)
    expect(gw.logs.entries().filter((e) => e.msg === 'WebSocket closed: the client reads too slowly').map(({ level, maxBufferedBytes }) => ({ level, maxBufferedBytes })))
      .toEqual([{ level: 30, maxBufferedBytes: BOUND }])
  })
})

describe('before connection_init is acknowledged (WS_MAX_INIT_BYTES)', () => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startModeGateway('passthrough', { WS_MAX_INIT_BYTES: '4096', WS_INIT_TIMEOUT_MS: '2000' })
  })
  afterAll(async () => { await gw.close() })
  const refused = { code: 1009, reason: 'Too much sent before connection_ack: at most 4096 bytes. Send connection_init first, and wait for its ack.' }

  it('closes a socket that pings with a large payload before connection_init with 1009, echoing nothing', async () => {
    gw.emulator.reset()
    const client = kept(peer(gw))
    await opened(client)
    client.send({ type: 'ping', payload: { pad: 'x'.repeat(8 * 1024) } })
    expect(await client.closed).toEqual(refused)
    expect(client.messages).toEqual([])
    expect(gw.emulator.calls()).toEqual([])
  })

  it('counts bytes as they arrive: a message that never ends is refused once the bound is passed', async () => {
    const client = kept(peer(gw))
    await opened(client)
    // Fragments of one text message, never finished: nothing reaches graphql-ws.
    client.socket.send('x'.repeat(3000), { fin: false })
    client.socket.send('x'.repeat(3000), { fin: false })
    expect(await client.closed).toEqual(refused)
  })

  it('a connection_init with a token under the bound is acknowledged; after it, messages up to WS_MAX_MESSAGE_BYTES are read', async () => {
    const client = kept(await acknowledged(gw, { ...connectionParams('passthrough'), client: 'x'.repeat(2000) }))
    // A 64 KB comment in a document: over WS_MAX_INIT_BYTES, read as any document is.
    client.send({ id: '1', type: 'subscribe', payload: { query: `#${'c'.repeat(64 * 1024)}\n{ __typename }` } })
    await client.received('complete', 1)
    expect(client.messages.slice(1)).toEqual([{ id: '1', type: 'next', payload: { data: { __typename: 'Query' } } }, { id: '1', type: 'complete' }])
  })
})

describe('ping payloads (WS_MAX_PING_PAYLOAD_BYTES)', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startModeGateway('none', { WS_MAX_PING_PAYLOAD_BYTES: '1024' }) })
  afterAll(async () => { await gw.close() })

  it('echoes a payload up to the bound, answers a ping without one with a bare pong, and closes on a larger one with 1009', async () => {
    const client = kept(await acknowledged(gw))
    const small = { sentAt: 1234, pad: 'x'.repeat(900) }
    client.send({ type: 'ping', payload: small })
    client.send({ type: 'ping' })
    await client.received('pong', 2)
    client.send({ type: 'ping', payload: { pad: 'x'.repeat(1100) } })
    expect(await client.closed).toEqual({ code: 1009, reason: 'Ping payload too large: at most 1024 bytes (as JSON). Send a smaller one, or none.' })
    expect(client.messages).toEqual([{ type: 'connection_ack' }, { type: 'pong', payload: small }, { type: 'pong' }])
  })
})

describe('one message (WS_MAX_MESSAGE_BYTES, default 128 KiB)', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startModeGateway('none') })
  afterAll(async () => { await gw.close() })
  const padded = (id: string, kb: number): unknown => ({ id, type: 'subscribe', payload: { query: `#${'c'.repeat(kb * 1024)}\n{ __typename }` } })
  const tooBig = { code: 1009, reason: 'Message too large: at most 131072 bytes. Send a smaller document, or fewer variables.' }

  it('reads a message under the bound, and closes with 1009 on one over it, unread', async () => {
    const client = kept(await acknowledged(gw))
    client.send(padded('1', 120))
    await client.received('complete', 1)
    client.send(padded('2', 200))
    // Before the bound, the 200 KB message was answered as the first was.
    expect(await Promise.race([client.closed, client.received('complete', 2).then(() => 'answered')])).toEqual(tooBig)
    expect(client.messages).toEqual([{ type: 'connection_ack' }, { id: '1', type: 'next', payload: { data: { __typename: 'Query' } } }, { id: '1', type: 'complete' }])
  })

  it('closes a message sent in fragments once they add up to more than the bound, before it ends', async () => {
    const client = kept(await acknowledged(gw))
    client.socket.send('x'.repeat(100 * 1024), { fin: false })
    client.socket.send('x'.repeat(100 * 1024), { fin: false })
    expect(await client.closed).toEqual(tooBig)
  })
})

describe('a refused socket whose client never answers the close (WS_CLOSE_TIMEOUT_MS)', () => {
  let gw: TestGateway
  let upgraded: Socket[] = []
  beforeAll(async () => {
    gw = await startModeGateway('none', { WS_CLOSE_TIMEOUT_MS: '200' })
    gw.app.server.prependListener('upgrade', (_request: IncomingMessage, socket: Socket) => { upgraded.push(socket) })
  })
  afterAll(async () => { await gw.close() })

  it('is dropped once the close handshake has waited WS_CLOSE_TIMEOUT_MS, not ws\' 30 s', async () => {
    upgraded = []
    const client = kept(await acknowledged(gw))
    const server = upgraded[0] as Socket
    // The client stops reading: it never sees the close frame, so never answers it.
    stopReading(client)
    client.send({ type: 'ping', payload: { pad: 'x'.repeat(2000) } })
    await once(server, 'close')
    expect(server.destroyed).toBe(true)
  })
})

describe('messages a second on one socket (WS_MESSAGES_PER_SECOND, WS_MESSAGE_BURST)', () => {
  let gw: TestGateway
  let now = 0
  beforeAll(async () => {
    gw = await startTestGateway({ ...modeEnv('none'), WS_MESSAGE_BURST: '10', WS_MESSAGES_PER_SECOND: '2' }, { clock: () => now })
  })
  afterAll(async () => { await gw.close() })
  const refused = { code: 1008, reason: 'Too many messages on this connection: at most 2 a second, after a burst of 10.' }

  /** Sends `n` pings one after the other, each once the last one's pong came back. */
  const pingPong = async (client: Peer, n: number): Promise<void> => {
    const before = client.messages.filter((m) => m.type === 'pong').length
    for (let i = 1; i <= n; i++) {
      client.send({ type: 'ping' })
      await client.received('pong', before + i)
    }
  }

  it('answers messages up to the burst (connection_init and WebSocket pings count), then closes with 1008', async () => {
    const client = kept(await acknowledged(gw))
    // connection_init took 1 of 10; 4 ping frames of the WebSocket protocol take 4 more.
    for (let i = 0; i < 4; i++) {
      client.socket.ping()
      await once(client.socket, 'pong')
    }
    await pingPong(client, 5)
    client.send({ type: 'ping' })
    expect(await client.closed).toEqual(refused)
    expect(client.messages).toEqual([{ type: 'connection_ack' }, ...Array.from({ length: 5 }, () => ({ type: 'pong' }))])
  })

  it('refills at the rate: 1.5 s later, 3 more messages pass', async () => {
    const client = kept(await acknowledged(gw))
    await pingPong(client, 9)
    now += 1500
    await pingPong(client, 3)
    client.send({ type: 'ping' })
    expect(await client.closed).toEqual(refused)
    expect(client.messages.filter((m) => m.type === 'pong')).toHaveLength(12)
  })
})

describe('bytes a second on one socket (WS_RECEIVED_BYTES_PER_SECOND, WS_RECEIVED_BYTES_BURST)', () => {
  let gw: TestGateway
  let now = 0
  beforeAll(async () => {
    // Messages of 400 KB, over WS_MAX_MESSAGE_BYTES' default, to reach the burst in few.
    gw = await startTestGateway({ ...modeEnv('none'), WS_RECEIVED_BYTES_BURST: String(1024 * 1024), WS_RECEIVED_BYTES_PER_SECOND: '1024', WS_MAX_MESSAGE_BYTES: String(1024 * 1024) }, { clock: () => now })
  })
  afterAll(async () => { await gw.close() })
  /** A query of about `kb` KB (a comment, which costs no token), answered with one result. */
  const padded = (id: string, kb: number): unknown => ({ id, type: 'subscribe', payload: { query: `#${'c'.repeat(kb * 1024)}\n{ __typename }` } })
  const answered = (id: string): Message[] => [{ id, type: 'next', payload: { data: { __typename: 'Query' } } }, { id, type: 'complete' }]

  it('reads messages up to the burst, then closes with 1008 before parsing the next', async () => {
    const client = kept(await acknowledged(gw))
    client.send(padded('1', 400))
    await client.received('complete', 1)
    client.send(padded('2', 400))
    await client.received('complete', 2)
    // connection_init and 800 KB taken of 1 MiB: 400 KB more is too much.
    client.send(padded('3', 400))
    expect(await client.closed).toEqual({ code: 1008, reason: 'Too much sent on this connection: at most 1024 bytes a second, after a burst of 1048576.' })
    expect(client.messages).toEqual([{ type: 'connection_ack' }, ...answered('1'), ...answered('2')])
  })

  it('refills at the rate: 100 s later, 100 KB more pass', async () => {
    const client = kept(await acknowledged(gw))
    client.send(padded('1', 400))
    client.send(padded('2', 400))
    await client.received('complete', 2)
    now += 100_000
    // About 224 KB left, and 100 KB more: a 300 KB message passes.
    client.send(padded('3', 300))
    await client.received('complete', 3)
    expect(client.socket.readyState).toBe(WebSocket.OPEN)
  })
})

describe('subscribe/complete churn on one socket (WS_SUBSCRIBES_PER_SECOND, WS_SUBSCRIBE_BURST)', () => {
  const INTERVAL = 250
  const watched = SEED.datasets.readOnly
  const status = (id: string): string => `subscription { datasetStatusChanged(datasetId: "${id}", follow: true) { id status } }`
  let gw: TestGateway
  let now = 0
  const time = new ManualTime()
  beforeAll(async () => {
    gw = await startTestGateway({ ...modeEnv('jwt'), POLL_INTERVAL_MS: String(INTERVAL), WS_SUBSCRIBE_BURST: '3', WS_SUBSCRIBES_PER_SECOND: '1' }, { clock: () => now, liveTime: time })
  })
  afterAll(async () => { await gw.close() })

  it('refuses operations past the bound with RATE_LIMITED, and every accepted subscription is cleaned up once completed', async () => {
    const client = kept(await acknowledged(gw, connectionParams('jwt')))
    for (const id of ['a1', 'a2', 'a3']) client.send({ id, type: 'subscribe', payload: { query: status(watched) } })
    // Each accepted subscription has its first event: the poller runs.
    await client.received('next', 3)
    await pollNow(gw, time, watched)
    expect(gw.app.live.size).toBe(1)
    const stopped = pollerStopped(gw, watched)
    const leftAt = time.now()
    // Churn: complete them and go on subscribing and completing, 5 pairs more (refused, and
    // completed before the refusal went out: graphql-ws answers nothing for them), then 5
    // subscribes left open, each refused with its error.
    for (const id of ['a1', 'a2', 'a3']) client.send({ id, type: 'complete' })
    for (let i = 1; i <= 5; i++) {
      client.send({ id: `b${i}`, type: 'subscribe', payload: { query: status(watched) } })
      client.send({ id: `b${i}`, type: 'complete' })
    }
    for (let i = 1; i <= 5; i++) client.send({ id: `c${i}`, type: 'subscribe', payload: { query: status(watched) } })
    await client.received('error', 5)
    expect(client.messages.slice(4)).toEqual([1, 2, 3, 4, 5].map((i) => ({
      id: `c${i}`,
      type: 'error',
      payload: [{
        message: 'Too many operations started on this connection: at most 1 a second, after a burst of 3. Try again in 1 s.',
        extensions: { code: 'RATE_LIMITED', requestId: expect.stringMatching(new RegExp(`:c${i}$`)) as unknown }
      }]
    })))
    expect(client.socket.readyState).toBe(WebSocket.OPEN)

    // The accepted ones are gone: their poller stops within one interval (no time passed), holding no timer, and never polls again.
    await stopped
    expect([gw.app.live.size, time.now(), time.pending]).toEqual([0, leftAt, 0])
    const settled = getsOf(gw, watched)
    time.advance(6 * INTERVAL * 1.1)
    expect(getsOf(gw, watched)).toBe(settled)

    // The allowance refills with time: one more second, one more operation.
    now += 1000
    client.send({ id: 'd1', type: 'subscribe', payload: { query: '{ __typename }' } })
    await client.received('complete', 1)
    expect(client.messages.slice(9)).toEqual([
      { id: 'd1', type: 'next', payload: { data: { __typename: 'Query' } } },
      { id: 'd1', type: 'complete' }
    ])
  })
})

describe('operation ids (WS_MAX_OPERATION_ID_LENGTH) and close reasons', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startModeGateway('none', { WS_MAX_OPERATION_ID_LENGTH: '128' }) })
  afterAll(async () => { await gw.close() })

  it('closes on a subscribe whose id is longer than the bound with 4400, answering nothing', async () => {
    const client = kept(await acknowledged(gw))
    client.send({ id: 'i'.repeat(129), type: 'subscribe', payload: { query: '{ __typename }' } })
    expect(await client.closed).toEqual({ code: 4400, reason: 'Operation id too long: at most 128 characters.' })
    expect(client.messages).toEqual([{ type: 'connection_ack' }])
  })

  it('an id up to the bound is served as before', async () => {
    const client = kept(await acknowledged(gw))
    const id = 'i'.repeat(128)
    client.send({ id, type: 'subscribe', payload: { query: '{ __typename }' } })
    await client.received('complete', 1)
    expect(client.messages.slice(1)).toEqual([{ id, type: 'next', payload: { data: { __typename: 'Query' } } }, { id, type: 'complete' }])
  })

  it('a duplicate id whose close reason would pass 123 bytes closes with 4409 and the reason cut, not an internal error', async () => {
    const client = kept(await acknowledged(gw))
    const id = 'd'.repeat(110)
    const subscription = { id, type: 'subscribe', payload: { query: `subscription { datasetStatusChanged(datasetId: "${SEED.datasets.readOnly}", follow: true) { status } }` } }
    client.send(subscription)
    await client.received('next', 1)
    client.send(subscription)
    expect(await client.closed).toEqual({ code: 4409, reason: `Subscriber for ${'d'.repeat(105)}...` })
    expect(gw.logs.entries().filter((e) => Number(e.level) >= 50)).toEqual([])
  })
})
