import { createClient } from 'graphql-sse'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { record, wsClient } from '../helpers/ws.js'

/**
 * GraphQL over HTTP, WebSocket and SSE are adapters of one operation pipeline: an operation over
 * MAX_QUERY_COST and one over the caller's allowance are refused alike on each (the same code and
 * message, before any upstream call), each is one log line and one count in the metrics under its
 * door's name, and each door counts its own allowance.
 */

const READY = SEED.datasets.ready
const COST = 'The operation could cost up to 201 Visual Layer calls, more than the 200 this gateway accepts. ' +
  'Ask for fewer items (pageSize, ids) or fewer nested fields, or split it into several requests.'
const DEEP_PAGE = 'query Deep { tasks(pageSize: 50) { nodes { dataset { sourceDataset { enrichment { applied { model { id } } } } } } } }'
const QUERY = `query One { dataset(id: "${READY}") { id } }`
/** The allowance's refusal; over HTTP the wait is said in words ("1 minute"), as REST says it, over a socket or a stream in seconds. */
const OVER_ALLOWANCE = /^Too many requests: at most 2 a minute for each caller\. Try again in (1 minute|[1-5]?[0-9] seconds|(59|60) s)\.$/

interface Error { message: string, extensions: { code: string, requestId: string } }
type Door = 'http' | 'websocket' | 'sse'
const DOORS: Door[] = ['http', 'websocket', 'sse']

describe('every door on the pipeline', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway({ RATE_LIMIT_PER_MINUTE: '2', LOG_LEVEL: 'info' }) })
  afterAll(async () => { await gw.close() })

  /** The errors an operation is answered with through `door` (none when it ran without). */
  const send = async (door: Door, query: string): Promise<Error[]> => {
    if (door === 'http') {
      const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) })
      return ((await res.json()) as { errors?: Error[] }).errors ?? []
    }
    if (door === 'websocket') {
      const client = wsClient(gw.url)
      try {
        const recorded = record(client, query)
        return await recorded.done.then(() => (recorded.events[0]?.errors ?? []) as Error[], (errors: Error[]) => errors)
      } finally {
        await client.dispose()
      }
    }
    // GraphQL over HTTP's event streams (Accept: text/event-stream at /graphql), served by the SSE door.
    const client = createClient({ url: `${gw.url}/graphql`, retryAttempts: 0 })
    try {
      const events: Array<{ errors?: Error[] }> = []
      await new Promise<void>((resolve, reject) => {
        client.subscribe({ query }, { next: (value) => { events.push(value as { errors?: Error[] }) }, error: reject, complete: resolve })
      })
      return events[0]?.errors ?? []
    } finally {
      client.dispose()
    }
  }
  /** The operation's log line, once written (the HTTP door writes it once the answer has been sent). */
  const lineOf = async (requestId: string): Promise<Record<string, unknown>> => {
    const match = (entry: Record<string, unknown>): boolean => entry.requestId === requestId && typeof entry.operation === 'object'
    await gw.logs.logged(`operation ${requestId}`, match)
    return gw.logs.entries().find(match) ?? {}
  }
  const samples = async (name: string, door: Door | null = null): Promise<Array<{ labels: Record<string, unknown>, value: number }>> =>
    ((await gw.app.metrics.registry.getSingleMetric(name)?.get())?.values ?? [])
      .filter(({ labels }) => door === null || labels.transport === door)
      .map(({ labels, value }) => ({ labels, value }))

  it.each(DOORS)('%s: refuses an operation over MAX_QUERY_COST with QUERY_REJECTED, logs and counts it', async (door) => {
    gw.emulator.clearCalls()
    const errors = await send(door, DEEP_PAGE)
    expect(errors).toEqual([{ message: COST, extensions: { code: 'QUERY_REJECTED', requestId: expect.any(String) as unknown } }])
    expect(gw.emulator.calls()).toEqual([])
    expect(await lineOf(errors[0]?.extensions.requestId ?? '')).toMatchObject({
      level: 30,
      msg: 'graphql operation refused or partial',
      operation: { name: 'Deep', type: 'query', transport: door, upstreamCalls: 0, outcome: 'QUERY_REJECTED' },
      reason: COST
    })
    expect(await samples('vlgw_operations_total', door)).toEqual([
      { labels: { transport: door, operation_type: 'query', operation_name: expect.any(String) as unknown, outcome: 'QUERY_REJECTED' }, value: 1 }
    ])
  })

  it('counted each refusal for its cost once, whichever door it came through', async () => {
    expect(await samples('vlgw_queries_rejected_total')).toEqual([{ labels: { reason: 'cost' }, value: 3 }])
  })

  it.each(DOORS)('%s: runs two queries a minute, refuses the third with RATE_LIMITED (the refusals above were not counted), logs and counts it', async (door) => {
    gw.emulator.clearCalls()
    for (let i = 0; i < 2; i++) expect(await send(door, QUERY)).toEqual([])
    expect(gw.emulator.calls().length).toBe(2)
    const errors = await send(door, QUERY)
    expect(errors).toEqual([{ message: expect.stringMatching(OVER_ALLOWANCE) as unknown, extensions: { code: 'RATE_LIMITED', requestId: expect.any(String) as unknown } }])
    expect(gw.emulator.calls().length).toBe(2)
    expect((await lineOf(errors[0]?.extensions.requestId ?? '')).operation).toMatchObject({ name: 'One', type: 'query', transport: door, upstreamCalls: 0, outcome: 'RATE_LIMITED' })
    const counted = await samples('vlgw_operations_total', door)
    expect(counted.filter(({ labels }) => labels.outcome !== 'QUERY_REJECTED').map(({ labels, value }) => [labels.operation_type, labels.outcome, value]))
      .toEqual([['query', 'ok', 2], ['query', 'RATE_LIMITED', 1]])
  })

  it('counted each refusal over the allowance once, whichever door it came through', async () => {
    expect(await samples('vlgw_rate_limited_total')).toEqual([{ labels: {}, value: 3 }])
  })
})
