import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws'
import type { Socket } from 'node:net'
import WebSocket from 'ws'
import { eventCounter, when } from './wait.js'

/** The real graphql-ws client (as GraphiQL, Apollo and urql use it) against a test gateway. */
export function wsClient (url: string, connectionParams: Record<string, unknown> = {}): Client {
  return createClient({
    url: `${url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams,
    lazy: false,
    retryAttempts: 0,
    // Tests assert closes themselves (the `closed` event, rejected subscriptions); not on stderr.
    onNonLazyError: () => {},
    keepAlive: 10_000
  })
}

export interface Recorded<T> {
  events: Array<FormattedExecutionResult<T, unknown>>
  /** Settles when the server completes the subscription, or rejects on an error message. */
  done: Promise<void>
  stop: () => void
  /** Resolves once `count` events in all have come (fails the test if they do not). */
  received: (count: number, timeoutMs?: number) => Promise<void>
}

export function record<T = Record<string, unknown>> (client: Client, query: string, variables?: Record<string, unknown>): Recorded<T> {
  const events: Array<FormattedExecutionResult<T, unknown>> = []
  const counter = eventCounter()
  let stop = (): void => {}
  const done = new Promise<void>((resolve, reject) => {
    stop = client.subscribe<T>({ query, variables }, {
      next: (value) => {
        events.push(value)
        counter.tell()
      },
      error: (err) => { reject(err) },
      complete: () => { resolve() }
    })
  })
  done.catch(() => {})
  const received = async (count: number, timeoutMs?: number): Promise<void> => {
    await counter.received(`subscription event ${count} (of ${query})`, () => events.length, count, done, timeoutMs)
  }
  return { events, done, stop, received }
}

/** A raw graphql-transport-ws socket, for what the client library cannot do (reset the TCP connection). */
export interface RawConnection {
  socket: WebSocket
  /** `next` payloads received, by subscription id. */
  events: Map<string, unknown[]>
  subscribe: (id: string, query: string) => void
  /** Resolves once `count` `next` payloads in all have come for subscription `id`. */
  received: (id: string, count: number) => Promise<void>
  /** Resets the TCP connection (RST), as a crashed client or a dropped network does. */
  reset: () => void
}

/**
 * Whether the server keeps `socket` open: a ping's pong (true) or the socket's close (false), whichever
 * comes first. A close the server sent before it read the ping arrives first.
 */
export async function stillOpen (socket: WebSocket): Promise<boolean> {
  if (socket.readyState !== WebSocket.OPEN) return false
  return await new Promise<boolean>((resolve) => {
    socket.once('pong', () => { resolve(true) })
    socket.once('close', () => { resolve(false) })
    socket.ping()
  })
}

/** Opens a socket and resolves once the server acknowledged connection_init. */
export async function rawConnection (url: string, connectionParams: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<RawConnection> {
  const socket = new WebSocket(`${url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws', { headers })
  const events = new Map<string, unknown[]>()
  await new Promise<void>((resolve, reject) => {
    socket.on('open', () => { socket.send(JSON.stringify({ type: 'connection_init', payload: connectionParams })) })
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string, id?: string, payload?: unknown }
      if (message.type === 'connection_ack') resolve()
      if (message.type === 'next' && message.id !== undefined) events.set(message.id, [...(events.get(message.id) ?? []), message.payload])
    })
    socket.on('close', (code, reason) => { reject(new Error(`closed ${code} ${reason.toString()}`)) })
    socket.on('error', reject)
  })
  return {
    socket,
    events,
    subscribe: (id, query) => { socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query } })) },
    received: async (id, count) => {
      await when(`${count} events of subscription ${id}`, (listener) => {
        socket.on('message', listener)
        return () => { socket.off('message', listener) }
      }, () => (events.get(id) ?? []).length >= count)
    },
    reset: () => { (socket as unknown as { _socket: Socket })._socket.resetAndDestroy() }
  }
}
