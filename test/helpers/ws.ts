import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws'
import WebSocket from 'ws'

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
}

export function record<T = Record<string, unknown>> (client: Client, query: string, variables?: Record<string, unknown>): Recorded<T> {
  const events: Array<FormattedExecutionResult<T, unknown>> = []
  let stop = (): void => {}
  const done = new Promise<void>((resolve, reject) => {
    stop = client.subscribe<T>({ query, variables }, {
      next: (value) => { events.push(value) },
      error: (err) => { reject(err) },
      complete: () => { resolve() }
    })
  })
  done.catch(() => {})
  return { events, done, stop }
}

export async function until (check: () => boolean, timeoutMs = 10_000, stepMs = 20): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, stepMs))
  }
}
