import type { FormattedExecutionResult } from 'graphql'
import { createClient, type Client } from 'graphql-sse'
import { createParser } from 'eventsource-parser'
import { eventCounter } from './wait.js'

/** The real graphql-sse client against a test gateway's /graphql/stream, in either of its modes. */
export function sseClient (url: string, singleConnection: boolean, headers: Record<string, string> = {}): Client<boolean> {
  // A copy: in single-connection mode graphql-sse writes its stream token into the headers object it is given.
  const options = { url: `${url}/graphql/stream`, headers: { ...headers }, retryAttempts: 0 }
  // Lazy: the stream opens with the first subscription and closes after the last one.
  return singleConnection ? createClient({ ...options, singleConnection: true, lazy: true, lazyCloseTimeout: 0 }) : createClient(options)
}

export interface SseRecorded<T> {
  events: Array<FormattedExecutionResult<T>>
  /** Settles when the server completes the subscription, or rejects with the client's error. */
  done: Promise<void>
  stop: () => void
  /** Resolves once `count` events in all have come (fails the test if they do not). */
  received: (count: number, timeoutMs?: number) => Promise<void>
}

export function recordSse<T = Record<string, unknown>> (client: Client<boolean>, query: string, variables?: Record<string, unknown>): SseRecorded<T> {
  const events: Array<FormattedExecutionResult<T>> = []
  const counter = eventCounter()
  let stop = (): void => {}
  const done = new Promise<void>((resolve, reject) => {
    stop = client.subscribe<T>({ query, variables }, {
      next: (value) => {
        events.push(value as FormattedExecutionResult<T>)
        counter.tell()
      },
      error: (err) => { reject(err) },
      complete: () => { resolve() }
    })
  })
  done.catch(() => {})
  return { events, done, stop, received: async (count, timeoutMs) => { await counter.received(`SSE event ${count} (of ${query})`, () => events.length, count, done, timeoutMs) } }
}

/** Authorization headers carrying `token`, or none (AUTH_MODE=none). */
export function bearer (token: string | null): Record<string, string> {
  return token === null ? {} : { authorization: `Bearer ${token}` }
}

/** One Server-Sent Event as a client parses it. */
export interface ServerEvent { readonly event: string | undefined, readonly id: string | undefined, readonly data: string }

export interface EventStreamRecorded {
  /** The answer's status and headers (a problem answer has no events). */
  readonly status: number
  readonly headers: Headers
  readonly events: ServerEvent[]
  /** Settles when the server ends the stream. */
  readonly done: Promise<void>
  /** Leaves: the client closes the stream. */
  stop: () => void
  /** Resolves once `count` events in all have come. */
  received: (count: number, timeoutMs?: number) => Promise<void>
}

/**
 * A plain SSE client (fetch, parsed by eventsource-parser, the parser the eventsource package uses) on
 * a REST event stream: GET `url` with `headers`, each event recorded as it arrives.
 */
export async function openEventStream (url: string, headers: Record<string, string> = {}): Promise<EventStreamRecorded> {
  const leaving = new AbortController()
  const res = await fetch(url, { headers, signal: leaving.signal })
  const events: ServerEvent[] = []
  const counter = eventCounter()
  const parser = createParser({ onEvent: (event) => { events.push({ event: event.event, id: event.id, data: event.data }); counter.tell() } })
  const done = (async () => {
    if (res.body === null) return
    const decoder = new TextDecoder()
    try {
      for await (const chunk of res.body) parser.feed(decoder.decode(chunk, { stream: true }))
    } catch (err) {
      if (!leaving.signal.aborted) throw err
    }
  })()
  done.catch(() => {})
  return {
    status: res.status,
    headers: res.headers,
    events,
    done,
    stop: () => { leaving.abort() },
    received: async (count, timeoutMs) => { await counter.received(`server event ${count} of ${url}`, () => events.length, count, done, timeoutMs) }
  }
}

/** Reads a fetch answer's body until `marker` has arrived: the text read so far (the body stays open, to be read on or cancelled). */
export async function readUntil (res: Response, marker: string): Promise<string> {
  const reader = res.body?.getReader()
  if (reader === undefined) throw new Error('no body')
  const decoder = new TextDecoder()
  let text = ''
  while (!text.includes(marker)) {
    const { done, value } = await reader.read()
    if (done) throw new Error(`stream ended before ${marker}: ${text}`)
    text += decoder.decode(value, { stream: true })
  }
  reader.releaseLock()
  return text
}
