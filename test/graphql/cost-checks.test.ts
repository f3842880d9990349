import { parse } from 'graphql'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { CostChecks } from '../../src/graphql/cost-checks.js'
import { buildSchema } from '../../src/graphql/schema.js'
import { SEED } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { recordSse, sseClient } from '../helpers/sse.js'
import { record, wsClient } from '../helpers/ws.js'

/**
 * Issue 22, item 1: the cost check remembers its findings per (document, operation name, variables),
 * and that memory is bounded in bytes across every document and door. Issue 27: only the variables
 * the check depends on (pageSize, ids, @skip/@include) are in the key. A caller who sends unique
 * variables of any size (extra variables the operation does not declare are allowed) cannot make it
 * keep them: large ones are never remembered, small ones are evicted least recently used first.
 */

const MAX_BYTES = 64 * 1024
const MAX_ENTRY_BYTES = 2 * 1024
const watched = SEED.datasets.ready
const DEEP = 'tasks(pageSize: $n) { nodes { dataset { sourceDataset { enrichment { applied { model { id } } } } } } }'
/** 1 + 50 x 4 = 201 calls with n = 50; 81 with n = 20. */
const QUERY = `query Deep($n: Int!) { ${DEEP} }`
/** The same selection under each event: 202 calls with n = 50. */
const SUBSCRIPTION = `subscription Deep($n: Int!) { datasetStatusChanged(datasetId: "${watched}") { ${DEEP} } }`
const refusal = (cost: number): string => `The operation could cost up to ${cost} Visual Layer calls, more than the 200 this gateway accepts. ` +
  'Ask for fewer items (pageSize, ids) or fewer nested fields, or split it into several requests.'
/** A unique padding of about `chars` characters, in a variable the operation does not declare. */
const pad = (chars: number, i: number): string => `${i}-${'x'.repeat(chars)}`

describe('the cost checks remembered (issue 22, item 1)', () => {
  let gw: TestGateway
  const bytes = (): number => gw.app.graph.limits.costChecks?.bytes ?? Number.NaN
  beforeAll(async () => {
    gw = await startTestGateway({ COST_CACHE_MAX_BYTES: String(MAX_BYTES), COST_CACHE_MAX_ENTRY_BYTES: String(MAX_ENTRY_BYTES) })
  })
  afterAll(async () => { await gw.close() })
  beforeEach(() => { gw.emulator.clearCalls() })

  it('keeps no large variables over HTTP, WebSocket and SSE, and still refuses each operation with its cost', async () => {
    const n = 20
    for (let i = 0; i < n; i++) {
      const res = await gw.gql(QUERY, { n: 50, pad: pad(100_000, i) }, { 'x-request-id': `req-big-${i}` })
      expect([res.status, res.body]).toEqual([400, { data: null, errors: [{ message: refusal(201), extensions: { code: 'QUERY_REJECTED', requestId: `req-big-${i}` } }] }])
    }
    expect(bytes()).toBeLessThanOrEqual(MAX_BYTES)

    const ws = wsClient(gw.url)
    try {
      for (let i = 0; i < n; i++) {
        const errors = await record(ws, SUBSCRIPTION, { n: 50, pad: pad(100_000, i) }).done.then(() => null, (err: unknown) => err)
        expect(errors).toEqual([{ message: refusal(202), extensions: { code: 'QUERY_REJECTED', requestId: expect.stringMatching(/:/) as unknown } }])
      }
    } finally {
      await ws.dispose()
    }
    expect(bytes()).toBeLessThanOrEqual(MAX_BYTES)

    const sse = sseClient(gw.url, false)
    try {
      for (let i = 0; i < n; i++) {
        const sub = recordSse(sse, SUBSCRIPTION, { n: 50, pad: pad(100_000, i) })
        await sub.done
        expect(sub.events.map((event) => event.errors)).toEqual([[{ message: refusal(202), extensions: { code: 'QUERY_REJECTED', requestId: expect.any(String) as unknown } }]])
      }
    } finally {
      sse.dispose()
    }
    expect(bytes()).toBeLessThanOrEqual(MAX_BYTES)
    expect(gw.emulator.calls()).toEqual([])
  })

  it('keys a check by the variables it depends on only: unique padding or ids are one entry, unique page sizes are bounded in bytes', async () => {
    const before = gw.app.graph.limits.costChecks?.size ?? Number.NaN
    // 200 unique paddings of one page size: one walk remembered, refused alike each time.
    for (let i = 0; i < 200; i++) {
      const res = await gw.gql(QUERY, { n: 50, pad: pad(800, i) })
      expect([res.status, res.body.errors?.[0]?.message]).toEqual([400, refusal(201)])
    }
    expect((gw.app.graph.limits.costChecks?.size ?? Number.NaN) - before).toBeLessThanOrEqual(1)

    // 2,000 unique page sizes (the cost caps them at 50; the key does not): bounded, least recently used out.
    for (let i = 0; i < 2_000; i++) expect(gw.app.graph.limits.costChecks?.check(gw.app.graph.schema, parse(QUERY), { n: 1_000 + i }, 'Deep').cost).toBe(201)
    const remembered = bytes()
    expect(remembered).toBeLessThanOrEqual(MAX_BYTES)
    expect(remembered).toBeGreaterThan(MAX_BYTES / 2)
    expect(gw.emulator.calls()).toEqual([])
    const runs = await gw.gql(QUERY, { n: 20, pad: pad(800, 1) }, { 'x-gateway-cost': 'true' })
    expect([runs.status, runs.body.errors, (runs.body as { extensions?: { cost?: { estimated?: number } } }).extensions?.cost?.estimated]).toEqual([200, undefined, 81])
  })
})

describe('CostChecks', () => {
  const schema = buildSchema()
  const document = parse(QUERY)

  it('answers a repeated check from memory, keeps none over maxEntryBytes, and evicts the least recently used past maxBytes', () => {
    const checks = new CostChecks({ maxBytes: 4096, maxEntryBytes: 1024 })
    const first = checks.check(schema, document, { n: 50 }, 'Deep')
    expect(first).toEqual({ cost: 201, invalid: null })
    expect(checks.check(schema, document, { n: 50 }, 'Deep')).toBe(first)
    // Keyed by schema, document, operation name and variables: each differing one is checked apart.
    expect(checks.check(schema, parse(QUERY), { n: 50 }, 'Deep')).not.toBe(first)
    expect(checks.check(schema, document, { n: 20 }, 'Deep')).toEqual({ cost: 81, invalid: null })
    expect(checks.size).toBe(3)

    // Variables the check does not depend on are not in its key: the same finding.
    expect(checks.check(schema, document, { n: 50, pad: pad(600, 0) }, 'Deep')).toBe(first)
    // Variables that do not coerce: no cost, nothing remembered.
    expect([checks.check(schema, document, { n: 'fifty' }, 'Deep'), checks.size]).toEqual([{ cost: null, invalid: null }, 3])

    const ids = parse('query Ids($ids: [ID!]!, $id: ID!) { datasetsByIds(ids: $ids) { id } dataset(id: $id) { id } }')
    const large = { ids: Array.from({ length: 40 }, (_, i) => `${i}-${'x'.repeat(20)}`), id: 'a' }
    const once = checks.check(schema, ids, large, 'Ids')
    expect([once, checks.check(schema, ids, large, 'Ids') === once, checks.size]).toEqual([{ cost: 41, invalid: null }, false, 3])
    const small = checks.check(schema, ids, { ids: ['a', 'b'], id: 'a' }, 'Ids')
    expect([small, checks.check(schema, ids, { ids: ['a', 'b'], id: 'another' }, 'Ids') === small]).toEqual([{ cost: 3, invalid: null }, true])

    for (let i = 0; i < 40; i++) checks.check(schema, document, { n: 1_000 + i }, 'Deep')
    expect(checks.bytes).toBeLessThanOrEqual(4096)
    expect(checks.check(schema, document, { n: 50 }, 'Deep')).not.toBe(first)
  })
})
