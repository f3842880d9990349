import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { Agent, request } from 'undici'

/*
 * HTTP from a loopback address of the case's own choosing (127.x.y.z all reach the gateway on
 * 127.0.0.1): the gateway counts rate limits and connection caps per client address, so each case's
 * attacker and probe are callers of their own, as they would be on a network. undici for requests
 * that read their answers, raw sockets for what a well-behaved client never does.
 */

export interface HttpAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
}

export interface SendOptions { method?: string, headers?: Record<string, string>, body?: string | Buffer, signal?: AbortSignal }

/** A response read as it comes (an event stream): its status and headers, and its text so far. */
export interface OpenStream {
  status: number
  headers: Record<string, string | string[] | undefined>
  /** Resolves with the text received once it contains `text` `times` times (or the stream ended first). */
  until: (text: string, times?: number) => Promise<string>
  close: () => void
}

export interface HttpFrom {
  readonly address: string
  send: (url: string, options?: SendOptions) => Promise<HttpAnswer>
  /** A request whose body is read as it arrives, for streams that do not end by themselves. */
  open: (url: string, options?: SendOptions) => Promise<OpenStream>
  close: () => Promise<void>
}

/** Requests from `address` over at most `connections` keep-alive connections. */
export function httpFrom (address: string, connections = 8): HttpFrom {
  const agent = new Agent({ localAddress: address, connections, pipelining: 1, keepAliveTimeout: 10_000 })
  return {
    address,
    async send (url, { method = 'GET', headers = {}, body, signal } = {}) {
      const res = await request(url, { method, headers, body, dispatcher: agent, signal: signal ?? null })
      return { status: res.statusCode, headers: res.headers, text: await res.body.text() }
    },
    async open (url, { method = 'GET', headers = {}, body, signal } = {}) {
      const controller = new AbortController()
      signal?.addEventListener('abort', () => { controller.abort() })
      const res = await request(url, { method, headers, body, dispatcher: agent, signal: controller.signal })
      let text = ''
      let ended = false
      const waiters: Array<{ text: string, times: number, resolve: (text: string) => void }> = []
      const settle = (): void => {
        for (const waiter of waiters.filter((w) => ended || text.split(w.text).length > w.times)) {
          waiters.splice(waiters.indexOf(waiter), 1)
          waiter.resolve(text)
        }
      }
      res.body.setEncoding('utf8')
      res.body.on('data', (chunk: string) => { text += chunk; settle() })
      res.body.on('error', () => { ended = true; settle() })
      res.body.on('end', () => { ended = true; settle() })
      return {
        status: res.statusCode,
        headers: res.headers,
        until: async (wanted, times = 1) => await new Promise<string>((resolve) => { waiters.push({ text: wanted, times, resolve }); settle() }),
        close: () => { controller.abort() }
      }
    },
    async close () { await agent.destroy() }
  }
}

/** A raw TCP connection from `address`, once connected; what it receives is collected in `received`. */
export interface RawSocket {
  readonly socket: Socket
  /** Everything received so far (when reading), as latin1 text. */
  received: () => string
  /** Resolves when the peer closed the connection (or it was destroyed). */
  readonly closed: Promise<void>
}

export async function rawSocket (url: string, address: string, { read = true }: { read?: boolean } = {}): Promise<RawSocket> {
  const { hostname, port } = new URL(url)
  const socket = connect({ host: hostname, port: Number(port), localAddress: address })
  const chunks: Buffer[] = []
  socket.on('error', () => {})
  // Not events.once: it would reject on the socket's 'error' (EPIPE when the gateway closes first), which is not ours to fail on.
  const closed = new Promise<void>((resolve) => { socket.once('close', () => { resolve() }) })
  socket.on('data', (chunk: Buffer) => { chunks.push(chunk) })
  // A client that does not read: nothing is taken from the kernel until it resumes.
  if (!read) socket.pause()
  await once(socket, 'connect')
  return { socket, received: () => Buffer.concat(chunks).toString('latin1'), closed }
}

/** The status and body of the first HTTP/1.1 response in `text` (a raw socket's `received()`). */
export function firstResponse (text: string): { status: number, head: string, body: string } {
  const end = text.indexOf('\r\n\r\n')
  const head = end === -1 ? text : text.slice(0, end)
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0)
  const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? -1)
  const rest = end === -1 ? '' : text.slice(end + 4)
  return { status, head, body: length >= 0 ? rest.slice(0, length) : rest }
}

/**
 * Sends the head of a request announcing `length` bytes of body (over the door's limit) and the first
 * 64 KB of it, and resolves with what it received once the gateway closed the socket. It sends no more
 * than that: the gateway answers as soon as it reads the length, and a socket closed with data it has
 * not read is reset, which loses the answer.
 */
export async function oversized (url: string, address: string, head: (length: number) => string, length: number): Promise<string> {
  const raw = await rawSocket(url, address)
  raw.socket.write(head(length))
  raw.socket.write(Buffer.alloc(Math.min(length, 64 * 1024), 'b'))
  await raw.closed
  return raw.received()
}

/** Whether `text` holds a whole first response with a Content-Length (a refusal, not a stream). */
export function wholeResponse (text: string): boolean {
  const end = text.indexOf('\r\n\r\n')
  const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, Math.max(0, end)))?.[1]
  return end !== -1 && length !== undefined && Buffer.byteLength(text.slice(end + 4), 'latin1') >= Number(length)
}

/** A head of an HTTP/1.1 request, for raw sockets. */
export function requestHead (method: string, path: string, headers: Record<string, string>): string {
  return `${method} ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n${Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`
}

/** Runs `task(i)` for i < count, at most `concurrency` at once, stopping early when `signal` aborts; resolves with the results in order. */
export async function inWaves<T> (count: number, concurrency: number, signal: AbortSignal, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = []
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < count && !signal.aborted) {
      const i = next++
      results[i] = await task(i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))
  return results.filter((_result, i) => i < next)
}

/** `promise`, or a rejection naming `what` after `ms`: an answer that never comes fails the case instead of hanging it. */
export async function within<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([promise, new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`${what}: nothing within ${ms} ms`)) }, ms) })])
  } finally {
    clearTimeout(timer)
  }
}
