import type { FormattedExecutionResult } from 'graphql'
import { createClient, type Client } from 'graphql-sse'
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
