import { getNamedType, isCompositeType, isObjectType, parse } from 'graphql'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import { FIELD_COSTS, NESTED_ARGUMENT_CHECKS, operationCost } from '../../src/graphql/cost.js'
import { buildSchema, readsProperty } from '../../src/graphql/schema.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { recordSse, sseClient } from '../helpers/sse.js'
import { record, wsClient } from '../helpers/ws.js'

/**
 * The cost of an operation to Visual Layer, computed before it runs from the table beside the schema
 * (src/graphql/cost.ts), and the document limits on aliases, directives and tokens: each refused with
 * QUERY_REJECTED over HTTP, WebSocket and SSE alike, with no upstream call. The cost an operation
 * actually incurred is returned on request and logged.
 */

const schema = buildSchema()
const costOf = (query: string, variables: Record<string, unknown> = {}): number | null => operationCost(schema, parse(query), variables, undefined)

describe('the cost table', () => {
  it('has an entry for every field that can reach Visual Layer (it has a resolver, or returns an object), and only for fields of the schema', () => {
    const needed: string[] = []
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__')) continue
      for (const field of Object.values(type.getFields())) {
        const resolved = (field.resolve !== undefined && !readsProperty(field.resolve)) || field.subscribe !== undefined
        if (resolved || isCompositeType(getNamedType(field.type))) needed.push(`${type.name}.${field.name}`)
      }
    }
    expect(needed.filter((key) => FIELD_COSTS[key] === undefined)).toEqual([])
    expect(Object.keys(FIELD_COSTS).filter((key) => !needed.includes(key))).toEqual([])
  })

  it('checks in advance the arguments of every field with arguments that is never at the root, and only fields of the schema', () => {
    const roots = new Set([schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].map((type) => type?.name))
    const nested: string[] = []
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__') || roots.has(type.name)) continue
      for (const field of Object.values(type.getFields())) {
        // Booleans and enums are checked by GraphQL itself; the rest have rules of the domain.
        const ruled = field.args.some((arg) => !['Boolean', 'Boolean!'].includes(String(arg.type)))
        if (ruled) nested.push(`${type.name}.${field.name}`)
      }
    }
    expect(Object.keys(NESTED_ARGUMENT_CHECKS).sort()).toEqual(nested.sort())
  })

  // The example operations of docs/graphql.md and the task manager page, at the default limit of 200.
  it.each([
    ['the dashboard (50 datasets counted, each with its source and its enrichments with their models)', `{
      datasets {
        id displayName status progress imageCount objectCount createdAt
        sourceDataset { displayName }
        enrichment { status applied { type model { name vendor } } }
      }
    }`, {}, 151],
    ['one dataset with what can be applied to it', `query ($id: ID!) {
      dataset(id: $id) { displayName status isReady errorMessage creationStatus { status progress } models(onlyActive: true) { id name type dependencies } }
    }`, { id: SEED.datasets.ready }, 3],
    ['the task manager of docs/graphql.md (20 tasks)', `{
      tasks(filter: { status: FAILED }, orderBy: { field: START_TIME, direction: DESC }, pageSize: 20) {
        total hasNextPage
        nodes { id type status errorMessage startTime canRetry dataset { displayName status } }
      }
      taskFilterOptions { datasetNames taskTypes createdBy }
    }`, {}, 22],
    ['the task manager page at its largest (50 tasks)', 'query ($n: Int!) { tasks(pageSize: $n) { nodes { id dataset { displayName } } } taskFilterOptions { taskTypes } }', { n: 50 }, 52],
    ['an enrichment with both datasets read back', `mutation {
      enrichDataset(datasetId: "${SEED.datasets.ready}", models: [{ type: "OBJECT_DETECTION", modelId: "m" }]) { enrichedDatasetId sourceDataset { status } enrichedDataset { status } }
    }`, {}, 6],
    ['100 datasets by id', '{ datasetsByIds(ids: $ids) { id } }'.replace('$ids', JSON.stringify(Array.from({ length: 100 }, () => SEED.datasets.ready))), {}, 100],
    ['a field skipped by @skip', '{ datasets @skip(if: true) { id } dataset(id: "x") { id } }', {}, 1],
    ['the schema alone', '{ __schema { types { name fields { name } } } }', {}, 0]
  ])('costs %s: %i', (_name, query, variables, cost) => {
    expect(costOf(query, variables)).toBe(cost)
  })

  it('cannot tell the cost of variables that do not coerce (execution refuses them, with no call)', () => {
    expect(costOf('query ($n: Int!) { tasks(pageSize: $n) { total } }', { n: 'many' })).toBe(null)
  })
})

const DEEP_PAGE = '{ tasks(pageSize: 50) { nodes { dataset { sourceDataset { enrichment { applied { model { id } } } } } } } }'
const costRefusal = (cost: number): string => `The operation could cost up to ${cost} Visual Layer calls, more than the 200 this gateway accepts. ` +
  'Ask for fewer items (pageSize, ids) or fewer nested fields, or split it into several requests.'
const ALIASES = 'The document uses more than 20 aliases, the most this gateway accepts. Ask for several items with one field (datasetsByIds), or split the document.'
const DIRECTIVES = 'The document uses more than 20 directives, the most this gateway accepts. Split it into several requests.'
const TOKENS = 'The document has more than 3000 tokens, the most this gateway accepts. Split it into several requests, or pass long lists as variables.'

const watched = SEED.datasets.ready
/** A subscription whose every event would cost 1 + 1 + 50 x 4 = 202 calls. */
const DEEP_SUBSCRIPTION = `subscription { datasetStatusChanged(datasetId: "${watched}") { tasks(pageSize: 50) { nodes { dataset { sourceDataset { enrichment { applied { model { id } } } } } } } } }`
const aliased = (n: number): string => `subscription { datasetStatusChanged(datasetId: "${watched}") { ${Array.from({ length: n }, (_, i) => `a${i}: id`).join(' ')} } }`
const directed = (n: number): string => `subscription { datasetStatusChanged(datasetId: "${watched}") { ${Array.from({ length: n }, () => 'id @include(if: true)').join(' ')} } }`
const tokens = `subscription { datasetStatusChanged(datasetId: "${watched}") { ${Array.from({ length: 3000 }, () => 'id').join(' ')} } }`
const at = [{ line: 1, column: 1 }]
const DEPTH = 'The document nests fields more than 10 levels deep, the most this gateway accepts. Split it into several requests.'
const FIELDS = 'The document selects more than 500 fields, the most this gateway accepts. Split it into several requests.'
/** The watched dataset's source's source... `levels` times below the event: 11 levels deep for 10. */
const nested = (levels: number): string =>
  `subscription { datasetStatusChanged(datasetId: "${watched}") { ${'sourceDataset { '.repeat(levels)}id${' }'.repeat(levels)} } }`

describe('over the live gateway', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway() })
  afterAll(async () => { await gw.close() })
  beforeEach(() => { gw.emulator.clearCalls() })

  it('refuses a document over MAX_QUERY_COST over HTTP, naming its cost and the limit, with no upstream call', async () => {
    const res = await gw.gql(DEEP_PAGE, undefined, { 'x-request-id': 'req-cost' })
    expect([res.status, res.body]).toEqual([400, { data: null, errors: [{ message: costRefusal(201), extensions: { code: 'QUERY_REJECTED', requestId: 'req-cost' } }] }])
    const line = gw.logs.entries().find((entry) => entry.requestId === 'req-cost' && entry.msg === 'graphql operation refused or partial')
    expect([line?.level, (line?.operation as { outcome?: string } | undefined)?.outcome, line?.reason]).toEqual([30, 'QUERY_REJECTED', costRefusal(201).slice(0, 200)])
    expect(gw.emulator.calls()).toEqual([])
  })

  it('refuses the floods of issue 12 before any call: 240 aliased task pages, 200 aliases of datasets', async () => {
    const pages = await gw.gql(`{ ${Array.from({ length: 240 }, (_, i) => `p${i + 1}: tasks(page: ${i + 1}) { total }`).join(' ')} }`, undefined, { 'x-request-id': 'req-pages' })
    expect([pages.status, pages.body]).toEqual([400, { data: null, errors: [{ message: ALIASES, locations: at, extensions: { code: 'QUERY_REJECTED', requestId: 'req-pages' } }] }])
    const lists = await gw.gql(`{ ${Array.from({ length: 200 }, (_, i) => `d${i}: datasets { id }`).join(' ')} }`, undefined, { 'x-request-id': 'req-lists' })
    expect([lists.status, lists.body]).toEqual([400, { data: null, errors: [{ message: ALIASES, locations: at, extensions: { code: 'QUERY_REJECTED', requestId: 'req-lists' } }] }])
    // Under the alias limit, the cost limit: 20 aliases of datasets cost 20 calls, 10 task pages of 50 with their datasets 510.
    const costly = await gw.gql(`{ ${Array.from({ length: 10 }, (_, i) => `p${i}: tasks(page: ${i + 1}, pageSize: 50) { nodes { dataset { id } } }`).join(' ')} }`, undefined, { 'x-request-id': 'req-costly-pages' })
    expect([costly.status, costly.body]).toEqual([400, { data: null, errors: [{ message: costRefusal(510), extensions: { code: 'QUERY_REJECTED', requestId: 'req-costly-pages' } }] }])
    expect(gw.emulator.calls()).toEqual([])
  })

  it('counts pageSize from the variables: 50 is over the limit, 20 runs', async () => {
    const query = `query ($n: Int!) ${DEEP_PAGE.replace('pageSize: 50', 'pageSize: $n')}`
    const over = await gw.gql(query, { n: 50 }, { 'x-request-id': 'req-cost-var' })
    expect([over.status, over.body]).toEqual([400, { data: null, errors: [{ message: costRefusal(201), extensions: { code: 'QUERY_REJECTED', requestId: 'req-cost-var' } }] }])
    expect(gw.emulator.calls()).toEqual([])
    const under = await gw.gql(query, { n: 20 })
    expect(under.status).toBe(200)
    expect(under.body.errors).toBe(undefined)
  })

  it('refuses a nested field\'s bad argument before its parent is read, over HTTP and WebSocket, naming it', async () => {
    const message = 'Argument pageSize must be from 5 to 50; got 51.'
    const query = `query ($n: Int!) { dataset(id: "${SEED.datasets.ready}") { id tasks(pageSize: $n) { total } } }`
    const http = await gw.gql(query, { n: 51 }, { 'x-request-id': 'req-nested' })
    expect([http.status, http.body]).toEqual([400, { data: null, errors: [{ message, extensions: { code: 'BAD_USER_INPUT', requestId: 'req-nested' } }] }])
    const ws = wsClient(gw.url)
    try {
      const sub = record(ws, `subscription ($n: Int!) { datasetStatusChanged(datasetId: "${SEED.datasets.ready}") { id tasks(pageSize: $n) { total } } }`, { n: 4 })
      const refusal = await sub.done.then(() => null, (errors: unknown) => errors)
      expect(refusal).toEqual([{ message: 'Argument pageSize must be from 5 to 50; got 4.', extensions: { code: 'BAD_USER_INPUT', requestId: expect.stringMatching(/:/) as unknown } }])
    } finally {
      await ws.dispose()
    }
    expect(gw.emulator.calls()).toEqual([])
    const valid = await gw.gql(query, { n: 5 })
    expect([valid.status, valid.body.errors]).toEqual([200, undefined])
  })

  it('refuses over WebSocket and SSE what it refuses over HTTP: cost, aliases, directives, tokens, depth, fields; and lets through what is at the limits', async () => {
    const ws = wsClient(gw.url)
    const sse = sseClient(gw.url, false)
    try {
      const refusals = async (query: string): Promise<unknown[]> => {
        const http = await gw.gql(query.replace(/^subscription/, 'query').replace(/datasetStatusChanged\(datasetId: "[^"]*"\)/, `dataset(id: "${watched}")`))
        const overWs = await record(ws, query).done.then(() => null, (errors: unknown) => errors)
        const overSse = recordSse(sse, query)
        await overSse.done
        return [http.body.errors, overWs, overSse.events.map((event) => event.errors)]
      }
      const refused = (message: string, locations?: unknown): unknown[] => {
        const error = (requestId: unknown): unknown => ({ message, ...(locations === undefined ? {} : { locations }), extensions: { code: 'QUERY_REJECTED', requestId } })
        return [[error(expect.any(String))], [error(expect.stringMatching(/:/))], [[error(expect.any(String))]]]
      }
      // Over HTTP the same selection under dataset(id), which costs 1 as the subscription's event does.
      expect(await refusals(DEEP_SUBSCRIPTION)).toEqual(refused(costRefusal(202)))
      expect(await refusals(aliased(21))).toEqual(refused(ALIASES, at))
      expect(await refusals(directed(21))).toEqual(refused(DIRECTIVES, at))
      expect(await refusals(tokens)).toEqual(refused(TOKENS))
      expect(await refusals(nested(10))).toEqual(refused(DEPTH, at))
      expect(await refusals(directed(0).replace('{  }', `{ ${Array.from({ length: 501 }, () => 'id').join(' ')} }`))).toEqual(refused(FIELDS, at))
      expect(gw.emulator.calls()).toEqual([])

      const allowed = recordSse(sse, aliased(20).replace('a0: id', `a0: id ${Array.from({ length: 20 }, () => '__typename @skip(if: false)').join(' ')}`))
      await allowed.done
      expect(allowed.events.length).toBe(1)
      expect(allowed.events[0]?.errors).toBe(undefined)
    } finally {
      sse.dispose()
      await ws.dispose()
    }
  })

  it('reports the cost an operation incurred in extensions when asked with x-gateway-cost, and in its log line always', async () => {
    const page = '{ tasks(pageSize: 50) { nodes { id dataset { displayName } } } }'
    const asked = await gw.gql(page, undefined, { 'x-gateway-cost': 'true', 'x-request-id': 'req-costly' })
    const calls = gw.emulator.calls().length
    expect(calls).toBeGreaterThan(1)
    expect(asked.status).toBe(200)
    expect(asked.body).toEqual({ data: expect.anything(), extensions: { cost: { estimated: 51, upstreamCalls: calls, limit: 200 } } })
    const completed = gw.logs.entries().find((entry) => entry.requestId === 'req-costly' && entry.msg === 'request completed')
    expect(completed?.cost).toEqual({ estimated: 51, upstreamCalls: calls })

    gw.emulator.clearCalls()
    const silent = await gw.gql('{ datasets { id } }', undefined, { 'x-request-id': 'req-quiet' })
    expect(Object.keys(silent.body)).toEqual(['data'])
    expect(gw.emulator.calls().length).toBe(1)
    const quiet = gw.logs.entries().find((entry) => entry.requestId === 'req-quiet' && entry.msg === 'request completed')
    expect(quiet?.cost).toEqual({ estimated: 1, upstreamCalls: 1 })
  })
})
