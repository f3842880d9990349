import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { hasRemoteUpstream, loadConfig } from '../../src/config.js'
import { DEMO_ACCOUNTS, SEED, startEmulator, type RunningEmulator } from '../../src/emulator/index.js'
import type { OperationParams } from '../../src/graphql/pipeline/pipeline.js'
import { authenticate } from '../../src/transports/authenticate.js'
import { TEST_START } from '../helpers/gateway.js'
import { LogCapture } from '../helpers/logs.js'

/**
 * A door of a few lines, registered on a real app, runs operations through the pipeline (app.pipeline)
 * and gets what every door gets with no code of its own: the document limits, the cost limit, the
 * caller's allowance, the operation's log line and its metrics.
 */

const READY = SEED.datasets.ready
const DEPTH = 'The document nests fields more than 10 levels deep, the most this gateway accepts. Split it into several requests.'
const COST = 'The operation could cost up to 201 Visual Layer calls, more than the 200 this gateway accepts. ' +
  'Ask for fewer items (pageSize, ids) or fewer nested fields, or split it into several requests.'
const DEEP_PAGE = '{ tasks(pageSize: 50) { nodes { dataset { sourceDataset { enrichment { applied { model { id } } } } } } } }'
const NESTED = `query Nested { dataset(id: "${READY}") { ${'sourceDataset { '.repeat(10)}id${' }'.repeat(10)} } }`

/** The whole door: authenticate the header, hand the body to the pipeline, answer what it answers. */
function fakeDoor (app: FastifyInstance): void {
  app.post('/fake', async (request, reply) => {
    const { caller, refusal } = await authenticate(app.auth, request.headers.authorization)
    if (refusal !== undefined) return await reply.code(401).send({ code: refusal.code })
    const start = { transport: 'fake', requestId: String(request.id), log: request.log, logNamesRequest: true }
    return await app.pipeline.run(start, { caller, params: request.body as OperationParams, signal: new AbortController().signal, lane: `address:${request.ip}` })
  })
}

interface Answer { data?: unknown, errors?: Array<{ message: string, extensions: { code: string, requestId: string } }> }

describe('a fake door on the pipeline', () => {
  let emulator: RunningEmulator
  let app: FastifyInstance
  const logs = new LogCapture()
  let sent = 0

  const send = async (query: string, variables?: Record<string, unknown>): Promise<{ requestId: string, body: Answer }> => {
    const requestId = `fake-${++sent}`
    const res = await app.inject({ method: 'POST', url: '/fake', headers: { 'x-request-id': requestId }, payload: { query, variables } })
    return { requestId, body: res.json<Answer>() }
  }
  const lineOf = (requestId: string): Record<string, unknown> | undefined =>
    logs.entries().find((entry) => entry.requestId === requestId && typeof entry.operation === 'object')
  const samples = async (name: string): Promise<Array<{ labels: Record<string, unknown>, value: number }>> =>
    ((await app.metrics.registry.getSingleMetric(name)?.get())?.values ?? []).map(({ labels, value }) => ({ labels, value }))

  beforeAll(async () => {
    emulator = await startEmulator({ clock: TEST_START })
    const config = loadConfig({
      VL_BASE_URL: emulator.url,
      VL_API_KEY: DEMO_ACCOUNTS.primary.apiKey,
      VL_API_SECRET: DEMO_ACCOUNTS.primary.apiSecret,
      AUTH_MODE: 'none',
      LOG_LEVEL: 'info',
      MODEL_CACHE_TTL_MS: '0',
      UPSTREAM_RETRIES: '0',
      RATE_LIMIT_PER_MINUTE: '3',
      RATE_LIMIT_MUTATIONS_PER_MINUTE: '0',
      RATE_LIMIT_UNPROVEN_PER_MINUTE: '0',
      LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0'
    })
    if (!hasRemoteUpstream(config)) throw new Error('unreachable: VL_BASE_URL is set')
    app = await buildApp(config, { logStream: logs })
    fakeDoor(app)
    await app.ready()
  })
  afterAll(async () => {
    await app.close()
    await emulator.close()
  })
  beforeEach(() => { emulator.clearCalls() })

  it('refuses a document over the limits with QUERY_REJECTED, before any upstream call, and logs and counts it', async () => {
    const { requestId, body } = await send(NESTED)
    expect(body).toEqual({ data: null, errors: [{ message: DEPTH, locations: [{ line: 1, column: 1 }], extensions: { code: 'QUERY_REJECTED', requestId } }] })
    expect(emulator.calls()).toEqual([])
    expect(lineOf(requestId)).toMatchObject({
      level: 30,
      msg: 'graphql operation refused or partial',
      operation: { name: null, type: 'unknown', transport: 'fake', upstreamCalls: 0, outcome: 'QUERY_REJECTED' },
      reason: DEPTH
    })
    expect(await samples('vlgw_queries_rejected_total')).toEqual([{ labels: { reason: 'depth' }, value: 1 }])
  })

  it('refuses an operation over MAX_QUERY_COST with QUERY_REJECTED, naming its cost', async () => {
    const { requestId, body } = await send(DEEP_PAGE)
    expect(body).toEqual({ data: null, errors: [{ message: COST, extensions: { code: 'QUERY_REJECTED', requestId } }] })
    expect(emulator.calls()).toEqual([])
    expect(lineOf(requestId)?.operation).toMatchObject({ type: 'query', transport: 'fake', outcome: 'QUERY_REJECTED' })
    expect(await samples('vlgw_queries_rejected_total')).toEqual([{ labels: { reason: 'depth' }, value: 1 }, { labels: { reason: 'cost' }, value: 1 }])
  })

  it('runs a query, logs its line and counts it under its name', async () => {
    const { requestId, body } = await send('query One($id: ID!) { dataset(id: $id) { id status } }', { id: READY })
    expect(body).toEqual({ data: { dataset: { id: READY, status: 'READY' } } })
    expect(emulator.calls().map((call) => call.path)).toEqual([`/api/v1/dataset/${READY}`])
    const line = lineOf(requestId)
    expect(line).toMatchObject({ level: 30, msg: 'graphql operation' })
    expect(line?.operation).toEqual({ name: 'One', type: 'query', transport: 'fake', ms: expect.any(Number), upstreamCalls: 1, outcome: 'ok' })
    expect(await samples('vlgw_operations_total')).toContainEqual({ labels: { transport: 'fake', operation_type: 'query', operation_name: 'One', outcome: 'ok' }, value: 1 })
  })

  it('counts the caller\'s queries against its allowance and refuses the one over it with RATE_LIMITED', async () => {
    // The allowance is 3 a minute: the two refused above (depth, cost) were refused before it; the query above was the first.
    for (let i = 0; i < 2; i++) expect((await send('query One($id: ID!) { dataset(id: $id) { id } }', { id: READY })).body.errors).toBeUndefined()
    const { requestId, body } = await send('query One($id: ID!) { dataset(id: $id) { id } }', { id: READY })
    expect(body.data).toBe(null)
    expect(body.errors?.map((error) => error.extensions)).toEqual([{ code: 'RATE_LIMITED', requestId }])
    expect(body.errors?.[0]?.message).toMatch(/^Too many requests: at most 3 a minute for each caller\. Try again in \d+ s\.$/)
    expect(emulator.calls().length).toBe(2)
    expect(lineOf(requestId)?.operation).toMatchObject({ name: 'One', type: 'query', transport: 'fake', upstreamCalls: 0, outcome: 'RATE_LIMITED' })
    expect(await samples('vlgw_rate_limited_total')).toEqual([{ labels: {}, value: 1 }])
    expect(await samples('vlgw_operations_total')).toContainEqual({ labels: { transport: 'fake', operation_type: 'query', operation_name: 'One', outcome: 'RATE_LIMITED' }, value: 1 })
  })

  it('refuses a subscription: a door that answers once runs queries and mutations only', async () => {
    const { requestId, body } = await send(`subscription Watch { datasetStatusChanged(datasetId: "${READY}") { status } }`)
    expect(body).toEqual({
      data: null,
      errors: [{
        message: 'This door answers queries and mutations only: subscribe over WebSocket (/graphql) or Server-Sent Events (/graphql/stream).',
        extensions: { code: 'QUERY_REJECTED', requestId }
      }]
    })
    expect(lineOf(requestId)?.operation).toMatchObject({ type: 'subscription', transport: 'fake', outcome: 'QUERY_REJECTED' })
  })
})
