import { applyLiveQueryJSONPatch } from '@n1ru4l/graphql-live-query-patch-json-patch'
import type { ExecutionResult } from 'graphql'
import type { Client as WsClient } from 'graphql-ws'
import { setImmediate } from 'node:timers/promises'
import type { LiveQueries, LiveQueryExecuted } from '../../src/graphql/live-queries.js'
import type { TestGateway } from './gateway.js'
import { sseClient } from './sse.js'
import { eventCounter, onChannel, when } from './wait.js'
import { wsClient } from './ws.js'

/*
 * Live queries (`@live`) with real clients over each door that streams them: graphql-ws, graphql-sse
 * (distinct connections), and GraphQL over HTTP with `Accept: text/event-stream` read by hand as the
 * spec's event stream. Each records the raw messages it got; `resultOf` applies them (patches with
 * the live-query patch package's client helper) to what the client holds now.
 */

export type LiveDoor = 'websocket' | 'sse' | 'http'
export const LIVE_DOORS: readonly LiveDoor[] = ['websocket', 'sse', 'http']

export interface LiveRecorded {
  /** The messages as they came (a result, or `{ revision, data | patch }` when patches were asked for). */
  readonly messages: Array<Record<string, unknown>>
  /** Settles when the server completes the operation; rejects on an error. */
  readonly done: Promise<void>
  stop: () => void
  /** Resolves once `count` messages in all have come. */
  received: (count: number) => Promise<void>
}

export interface LiveOpen {
  query: string
  variables?: Record<string, unknown>
  patches?: boolean
  /** A bearer token, or null (AUTH_MODE=none). */
  token: string | null
}

/** Clients opened (WebSocket, SSE), disposed of by `closeClients`. */
const clients: Array<{ dispose: () => void | Promise<void> }> = []

/** Keeps `client` to be disposed of by `closeClients`. */
export function keepClient<C extends { dispose: () => void | Promise<void> }> (client: C): C {
  clients.push(client)
  return client
}

export async function closeClients (): Promise<void> {
  await Promise.all(clients.splice(0).map(async (client) => { await client.dispose() }))
}

export function openLive (door: LiveDoor, gw: Pick<TestGateway, 'url'>, { query, variables, patches = false, token }: LiveOpen, ws?: WsClient): LiveRecorded {
  const messages: Array<Record<string, unknown>> = []
  const counter = eventCounter()
  const extensions = patches ? { live: { patch: 'json-patch' } } : undefined
  const sink = {
    next: (value: unknown) => { messages.push(value as Record<string, unknown>); counter.tell() }
  }
  let stop = (): void => {}
  const done = new Promise<void>((resolve, reject) => {
    const handlers = { ...sink, error: (err: unknown) => { reject(err) }, complete: () => { resolve() } }
    const request = { query, ...(variables === undefined ? {} : { variables }), ...(extensions === undefined ? {} : { extensions }) }
    if (door === 'websocket') {
      let client = ws
      if (client === undefined) {
        client = wsClient(gw.url, token === null ? {} : { Authorization: `Bearer ${token}` })
        clients.push(client)
      }
      stop = client.subscribe(request, handlers)
    } else if (door === 'sse') {
      const client = sseClient(gw.url, false, token === null ? {} : { authorization: `Bearer ${token}` })
      clients.push(client)
      stop = client.subscribe(request, handlers)
    } else {
      const controller = new AbortController()
      stop = () => { controller.abort() }
      clients.push({ dispose: stop })
      httpStream(gw.url, request, token, controller.signal, handlers).catch(handlers.error)
    }
  })
  done.catch(() => {})
  return {
    messages,
    done,
    stop: () => { stop() },
    received: async (count) => { await counter.received(`live message ${count} (of ${query})`, () => messages.length, count, done) }
  }
}

/** GraphQL over HTTP with `Accept: text/event-stream`: `next` events, then `complete`. */
async function httpStream (
  url: string, body: unknown, token: string | null, signal: AbortSignal,
  handlers: { next: (value: unknown) => void, complete: () => void }
): Promise<void> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body),
    signal
  })
  if (res.body === null) throw new Error(`no body (${res.status})`)
  if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    handlers.next(await res.json())
    handlers.complete()
    return
  }
  const decoder = new TextDecoder()
  let buffered = ''
  try {
    for await (const chunk of res.body) {
      buffered += decoder.decode(chunk as Uint8Array, { stream: true })
      for (let end = buffered.indexOf('\n\n'); end >= 0; end = buffered.indexOf('\n\n')) {
        const block = buffered.slice(0, end)
        buffered = buffered.slice(end + 2)
        const lines = block.split('\n')
        const event = lines.find((line) => line.startsWith('event:'))?.slice(6).trim()
        const data = lines.filter((line) => line.startsWith('data:')).map((line) => line.slice(5).trim()).join('\n')
        if (event === 'next') handlers.next(JSON.parse(data))
        if (event === 'complete') {
          handlers.complete()
          return
        }
      }
    }
  } catch (err) {
    if (signal.aborted) return
    throw err
  }
  handlers.complete()
}

/** What the client holds after `messages`: the last result, or the patches applied with applyLiveQueryJSONPatch. */
export async function resultOf (messages: ReadonlyArray<Record<string, unknown>>): Promise<ExecutionResult> {
  if (messages.length === 0) throw new Error('no message yet')
  if (!('revision' in (messages[0] ?? {}))) return messages.at(-1) as ExecutionResult
  async function * source (): AsyncGenerator<ExecutionResult> {
    // A copy each: the patch helper changes what it is given in place.
    for (const message of messages) yield structuredClone(message) as ExecutionResult
  }
  let last: ExecutionResult | undefined
  for await (const value of applyLiveQueryJSONPatch(source())) last = value
  if (last === undefined) throw new Error('the patch helper gave nothing')
  return last
}

export function liveQueriesOf (gw: TestGateway): LiveQueries {
  return gw.app.pipeline.settings.liveQueries
}

const executions = onChannel<LiveQueryExecuted>('visual-layer:live-query:executed')

/** Resolves once no live query of `gw` is executing (what a poll or a write set off has run its course). */
export async function liveQueriesSettled (gw: TestGateway): Promise<void> {
  await setImmediate()
  const queries = liveQueriesOf(gw)
  await when('live queries to finish executing', executions, () => queries.busy === 0)
}

const leaves = onChannel<{ queries: object }>('visual-layer:live-query:left')

/** Resolves once `gw` holds `count` live-query subscribers (those that left have left). */
export async function liveSubscribers (gw: TestGateway, count: number): Promise<void> {
  const queries = liveQueriesOf(gw)
  await when(`${count} live query subscribers`, leaves, () => queries.size.subscribers === count)
}
