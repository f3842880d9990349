import { connect, type Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'

/**
 * HTTP/1.1 over a raw TCP socket, for what fetch cannot do: send half a request and stall, or keep
 * a connection idle. `received` settles with everything the gateway sent once it closed the socket.
 */
export interface RawExchange {
  socket: Socket
  /** What arrived so far. */
  text: () => string
  /** Everything the gateway sent, once the socket closed (from either side). */
  received: Promise<string>
  /** Settles with the first bytes the gateway sends. */
  firstData: Promise<string>
}

export async function rawExchange (url: string, bytes: string): Promise<RawExchange> {
  const { port } = new URL(url)
  const socket = connect(Number(port), '127.0.0.1')
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  let text = ''
  const firstData = new Promise<string>((resolve) => { socket.once('data', (chunk: Buffer) => { resolve(chunk.toString()) }) })
  socket.on('data', (chunk: Buffer) => { text += chunk.toString() })
  const received = new Promise<string>((resolve) => { socket.once('close', () => { resolve(text) }) })
  // The client never errs on its own here: a reset by the gateway only ends what was received.
  socket.on('error', () => {})
  socket.write(bytes)
  return { socket, text: () => text, received, firstData }
}

/** The status line, headers (lower-cased names) and body of one raw HTTP/1.1 answer. */
export function parseAnswer (raw: string): { status: string, headers: Record<string, string>, body: string } {
  const at = raw.indexOf('\r\n\r\n')
  const [status = '', ...lines] = raw.slice(0, at).split('\r\n')
  const headers = Object.fromEntries(lines.map((line) => {
    const colon = line.indexOf(':')
    return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]
  }))
  return { status, headers, body: raw.slice(at + 4) }
}

/** How many sockets the gateway holds open now. */
export async function openSockets (app: FastifyInstance): Promise<number> {
  return await new Promise((resolve, reject) => {
    app.server.getConnections((err, count) => { if (err === null) resolve(count); else reject(err) })
  })
}

/**
 * The gateway's end of the next connection it accepts: its `closed` settles once the gateway itself
 * has let go of the socket (the client's 'close' can come first).
 */
export function nextServerSocket (app: FastifyInstance): Promise<{ closed: Promise<void> }> {
  return new Promise((resolve) => {
    app.server.once('connection', (socket: Socket) => {
      resolve({ closed: new Promise((resolve) => { socket.once('close', () => { resolve() }) }) })
    })
  })
}
