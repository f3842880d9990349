import { DEMO_ACCOUNTS, SEED } from '../../../src/emulator/index.js'
import { canonical, statusAndBody } from './answers.js'
import type { AttackContext } from './case.js'
import { bearer } from './tokens.js'
import { openSocket, operationText } from './ws.js'
import type { Door } from './matrix.js'

/** The doors with an operation of their own here (a live query's is the websocket and sse doors'). */
export type OperatedDoor = Exclude<Door, 'live-query' | 'webhooks'>

/*
 * What a well-behaved caller does on each door, for the suites whose attack is on what the gateway
 * depends on (Redis, Visual Layer) rather than on a door: one operation, its answer as text to compare
 * whole, and when it came.
 */

export interface Answered {
  text: string
  /** performance.now() when the answer was complete. */
  at: number
}

const json = { 'content-type': 'application/json' }
const stream = { 'content-type': 'application/json', accept: 'text/event-stream' }
const readyStatus = `subscription { datasetStatusChanged(datasetId: "${SEED.datasets.ready}") { id status } }`

/** The one event and the end of a distinct-connections SSE stream. */
export const oneResult = (payload: string): string => `:\n\nevent: next\ndata: ${payload}\n\nevent: complete\ndata:\n\n`

/**
 * One operation of `door` by the caller with `token`, asking about `datasetId` (default: the READY
 * dataset); `n` makes a GraphQL document its own. A caller that gives up (`signal`) is answered
 * "no answer" (the request is aborted, the socket closed).
 */
export async function operate (door: OperatedDoor, ctx: AttackContext<unknown>, token: string, n: number, datasetId: string = SEED.datasets.ready, signal?: AbortSignal): Promise<Answered> {
  try {
    return await operateOnce(door, ctx, token, n, datasetId, signal ?? AbortSignal.timeout(10_000))
  } catch (err) {
    if (signal?.aborted !== true) throw err
    return { text: 'no answer', at: performance.now() }
  }
}

async function operateOnce (door: OperatedDoor, ctx: AttackContext<unknown>, token: string, n: number, datasetId: string, signal: AbortSignal): Promise<Answered> {
  const done = (text: string): Answered => ({ text, at: performance.now() })
  const { url, http } = ctx
  switch (door) {
    case 'graphql-http': {
      const answer = await http.send(`${url}/graphql`, { method: 'POST', headers: { ...json, ...bearer(token) }, body: JSON.stringify({ query: `{ d${n}: dataset(id: "${datasetId}") { id status } }` }), signal })
      return done(statusAndBody(answer))
    }
    case 'websocket': {
      const socket = await openSocket(url, ctx.other(n + 1))
      const giveUp = (): void => { socket.socket.terminate() }
      signal.addEventListener('abort', giveUp)
      try {
        socket.send({ type: 'connection_init', payload: { Authorization: `Bearer ${token}` } })
        await socket.received(1)
        return done(operationText(await socket.operation('1', { query: readyStatus.replace(SEED.datasets.ready, datasetId) })))
      } finally {
        signal.removeEventListener('abort', giveUp)
        socket.socket.terminate()
      }
    }
    case 'sse': {
      const answer = await http.send(`${url}/graphql/stream`, { method: 'POST', headers: { ...stream, ...bearer(token) }, body: JSON.stringify({ query: readyStatus.replace(SEED.datasets.ready, datasetId) }), signal })
      return done(statusAndBody(answer))
    }
    case 'rest': {
      const answer = await http.send(`${url}/v1/datasets/${datasetId}`, { headers: bearer(token), signal })
      return done(answer.status === 200 ? `200 ${(JSON.parse(answer.text) as { id: string, status: string }).status}` : statusAndBody(answer))
    }
    case 'rest-events': {
      const answer = await http.send(`${url}/v1/datasets/${datasetId}/events`, { headers: bearer(token), signal })
      const events = answer.text.split('\n').filter((line) => line.startsWith('event: ')).join(' ')
      return done(events === '' ? statusAndBody(answer) : `${answer.status} ${events}`)
    }
  }
}

/** What `operate` answers a caller who may see the READY dataset (or `datasetId`, READY too). */
export function readyAnswer (door: OperatedDoor, datasetId: string = SEED.datasets.ready, n = 0): string {
  const dataset = { id: datasetId, status: 'READY' }
  switch (door) {
    case 'graphql-http': return `200 ${canonical({ data: { [`d${n}`]: dataset } })}`
    case 'websocket': return `next ${canonical({ data: { datasetStatusChanged: dataset } })} | complete`
    case 'sse': return `200 ${oneResult(canonical({ data: { datasetStatusChanged: dataset } }))}`
    case 'rest': return '200 READY'
    case 'rest-events': return '200 event: status event: complete'
  }
}

/** The second account's READY dataset, for a caller of another tenant. */
export const OTHER_TENANT = { account: DEMO_ACCOUNTS.secondary, datasetId: SEED.datasets.secondaryReady }
