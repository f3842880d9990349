import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import WebSocket from 'ws'
import { canonical } from './answers.js'
import { rawSocket, requestHead, type RawSocket } from './http.js'

/*
 * graphql-transport-ws clients for attacks: `ws` sockets from the case's address, with every message
 * and the close kept for the answers' assertions; and a raw upgrade for frames no library would send.
 */

export interface WsMessage { type: string, id?: string, payload?: unknown }

export interface AttackSocket {
  readonly socket: WebSocket
  readonly messages: WsMessage[]
  /** Resolves with the close code and reason, whoever closed. */
  readonly closed: Promise<{ code: number, reason: string }>
  send: (message: unknown) => void
  /** Resolves when `count` messages (in all) have arrived, or rejects when the socket closes first. */
  received: (count: number) => Promise<void>
  /** Sends a subscribe and resolves with its messages once it ends (complete or error); rejects when the socket closes first. */
  operation: (id: string, payload: unknown) => Promise<WsMessage[]>
}

/** Opens a socket from `address` (the upgrade answered), or rejects with the HTTP status it got instead. */
export async function openSocket (url: string, address: string, { read = true, headers = {} }: { read?: boolean, headers?: Record<string, string> } = {}): Promise<AttackSocket> {
  const socket = new WebSocket(`${url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws', { localAddress: address, headers, maxPayload: 64 * 1024 * 1024 })
  const messages: WsMessage[] = []
  const waiters: Array<{ count: number, resolve: () => void, reject: (err: Error) => void }> = []
  const operations = new Map<string, { messages: WsMessage[], resolve: (messages: WsMessage[]) => void, reject: (err: Error) => void }>()
  const closed = new Promise<{ code: number, reason: string }>((resolve) => {
    socket.on('close', (code, reason) => {
      const err = new Error(`closed ${code} ${reason.toString()} after ${messages.length} messages`)
      for (const waiter of waiters.splice(0)) waiter.reject(err)
      for (const operation of operations.values()) operation.reject(err)
      operations.clear()
      resolve({ code, reason: reason.toString() })
    })
  })
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as WsMessage
    messages.push(message)
    const operation = message.id === undefined ? undefined : operations.get(message.id)
    if (operation !== undefined && message.id !== undefined) {
      operation.messages.push(message)
      if (message.type === 'complete' || message.type === 'error') {
        operations.delete(message.id)
        operation.resolve(operation.messages)
      }
    }
    for (const waiter of waiters.filter((w) => messages.length >= w.count)) {
      waiters.splice(waiters.indexOf(waiter), 1)
      waiter.resolve()
    }
  })
  socket.on('error', () => {})
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => { resolve() })
    socket.once('unexpected-response', (_request, response) => { reject(new Error(`upgrade answered ${response.statusCode ?? 0}`)); socket.terminate() })
    socket.once('close', (code) => { reject(new Error(`closed ${code} before it opened`)) })
  })
  // A client that never reads: its TCP socket is paused, so what the gateway sends piles up on the gateway's side.
  if (!read) socket.pause()
  return {
    socket,
    messages,
    closed,
    send: (message) => { socket.send(typeof message === 'string' ? message : JSON.stringify(message)) },
    received: async (count) => {
      if (messages.length >= count) return
      await new Promise<void>((resolve, reject) => { waiters.push({ count, resolve, reject }) })
    },
    operation: async (id, payload) => await new Promise<WsMessage[]>((resolve, reject) => {
      if (socket.readyState !== socket.OPEN) {
        reject(new Error('the socket is closed'))
        return
      }
      operations.set(id, { messages: [], resolve, reject })
      socket.send(JSON.stringify({ id, type: 'subscribe', payload }))
    })
  }
}

/** The messages of an operation as text, request ids replaced: what compares whole. */
export function operationText (messages: readonly WsMessage[]): string {
  return messages.map((message) => `${message.type}${message.payload === undefined ? '' : ` ${canonical(message.payload)}`}`).join(' | ').replace(/"requestId":"[^"]*"/g, '"requestId":"<id>"')
}

/** The close frame a raw socket received from the server (unmasked), or null. */
export function closeFrameOf (received: string): { code: number, reason: string } | null {
  const bytes = Buffer.from(received, 'latin1')
  const start = bytes.indexOf('\r\n\r\n')
  let at = start === -1 ? 0 : start + 4
  while (at + 2 <= bytes.length) {
    const opcode = (bytes[at] ?? 0) & 0x0f
    let length = (bytes[at + 1] ?? 0) & 0x7f
    let offset = at + 2
    if (length === 126) { length = bytes.readUInt16BE(offset); offset += 2 } else if (length === 127) { length = Number(bytes.readBigUInt64BE(offset)); offset += 8 }
    if (opcode === 0x8) return { code: length >= 2 ? bytes.readUInt16BE(offset) : 1005, reason: bytes.subarray(offset + 2, offset + length).toString() }
    at = offset + length
  }
  return null
}

/** A socket past connection_init, acknowledged (rejects with the close when refused). */
export async function initSocket (url: string, address: string, token: string | null, options: { read?: boolean } = {}): Promise<AttackSocket> {
  const client = await openSocket(url, address)
  client.send({ type: 'connection_init', payload: token === null ? {} : { Authorization: `Bearer ${token}` } })
  await Promise.race([client.received(1), client.closed.then(({ code, reason }) => { throw new Error(`closed ${code} ${reason}`) })])
  if (client.messages[0]?.type !== 'connection_ack') throw new Error(`no connection_ack: ${JSON.stringify(client.messages[0])}`)
  if (options.read === false) client.socket.pause()
  return client
}

/**
 * `count` sockets past connection_init, each with `token(i)`, opened 10 at a time (WS_MAX_PENDING_PER_ADDRESS
 * counts the ones not acknowledged yet); on a refusal, those already open are closed before it rejects.
 */
export async function initSockets (url: string, address: string, count: number, token: (i: number) => string | null, options: { read?: boolean } = {}): Promise<AttackSocket[]> {
  const sockets: AttackSocket[] = []
  try {
    for (let start = 0; start < count; start += 10) {
      sockets.push(...await Promise.all(Array.from({ length: Math.min(10, count - start) }, async (_, k) => await initSocket(url, address, token(start + k), options))))
    }
    return sockets
  } catch (err) {
    for (const socket of sockets) socket.socket.terminate()
    throw err
  }
}

/** A WebSocket upgraded by hand on a raw TCP socket, for frames a library would not send (partial, oversized). */
export async function rawUpgrade (url: string, address: string, { read = true }: { read?: boolean } = {}): Promise<RawSocket> {
  const raw = await rawSocket(url, address, { read: true })
  raw.socket.write(requestHead('GET', '/graphql', {
    connection: 'Upgrade',
    upgrade: 'websocket',
    'sec-websocket-version': '13',
    'sec-websocket-key': randomBytes(16).toString('base64'),
    'sec-websocket-protocol': 'graphql-transport-ws'
  }))
  await new Promise<void>((resolve, reject) => {
    const check = (): void => {
      const text = raw.received()
      if (text.includes('\r\n\r\n')) {
        raw.socket.off('data', check)
        if (text.startsWith('HTTP/1.1 101')) resolve()
        else reject(new Error(`upgrade answered ${text.split('\r\n')[0] ?? ''}`))
      }
    }
    raw.socket.on('data', check)
    void raw.closed.then(() => { reject(new Error('closed during the upgrade')) })
  })
  if (!read) raw.socket.pause()
  return raw
}

/** The head of a masked client text frame announcing `length` bytes of payload, and a masker for them. */
export function frameHead (length: number, opcode = 0x1): { head: Buffer, mask: (payload: Buffer, offset?: number) => Buffer } {
  const key = randomBytes(4)
  let head: Buffer
  if (length < 126) {
    head = Buffer.from([0x80 | opcode, 0x80 | length])
  } else if (length < 65536) {
    head = Buffer.alloc(4)
    head.writeUInt8(0x80 | opcode, 0)
    head.writeUInt8(0x80 | 126, 1)
    head.writeUInt16BE(length, 2)
  } else {
    head = Buffer.alloc(10)
    head.writeUInt8(0x80 | opcode, 0)
    head.writeUInt8(0x80 | 127, 1)
    head.writeBigUInt64BE(BigInt(length), 2)
  }
  return {
    head: Buffer.concat([head, key]),
    mask: (payload, offset = 0) => Buffer.from(payload.map((byte, i) => byte ^ (key[(offset + i) % 4] ?? 0)))
  }
}

/**
 * Sends subscribe and complete pairs of `query` on `socket` as fast as it can (at most 20,000 pairs, until
 * `signal` or the socket closes), then waits a second for the close: what it sent, and how it closed.
 */
export async function subscribeCompleteChurn (socket: AttackSocket, query: string, signal: AbortSignal): Promise<{ pairs: number, close: { code: number, reason: string } | 'still open' }> {
  let pairs = 0
  while (pairs < 20_000 && !signal.aborted && socket.socket.readyState === socket.socket.OPEN) {
    for (let k = 0; k < 200; k++, pairs++) {
      socket.send({ id: String(pairs), type: 'subscribe', payload: { query } })
      socket.send({ id: String(pairs), type: 'complete' })
    }
    await sleep(1)
  }
  const close = await Promise.race([socket.closed, sleep(1_000).then(() => 'still open' as const)])
  socket.socket.terminate()
  return { pairs, close }
}
