import { buildSchema as schemaOf, Kind, parse } from 'graphql'
import type * as jit from 'graphql-jit'
import { compileQuery } from 'graphql-jit'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import { compiledBytes, CompiledQueries } from '../../src/graphql/pipeline/compiled.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { estimateOverHeap, expectWithin } from '../helpers/heap.js'

/**
 * Queries and mutations run by graphql-jit from the second execution of their document on
 * (src/graphql/pipeline/pipeline.ts): each case here executes a document once (graphql-js), then again
 * (compiled), and the compiled answer is the same, to the byte, as graphql-js's. compileQuery is the
 * library's own, counted.
 */
vi.mock('graphql-jit', async (importOriginal) => {
  const actual = await importOriginal<typeof jit>()
  return { ...actual, compileQuery: vi.fn(actual.compileQuery) }
})

let gw: TestGateway
beforeAll(async () => { gw = await startTestGateway() })
afterAll(async () => { await gw.close() })
beforeEach(() => {
  gw.emulator.reset()
  vi.mocked(compileQuery).mockClear()
})

/** Each compilation: the name of the document's first operation, and how many definitions it has. */
const compiled = (): string[] => vi.mocked(compileQuery).mock.calls.map(([, document]) => {
  const [first] = document.definitions
  return `${first?.kind === Kind.OPERATION_DEFINITION ? first.name?.value ?? '' : ''}:${document.definitions.length}`
})

describe('compiled execution', () => {
  it('compiles a document on its second execution, once, and answers as graphql-js did', async () => {
    const query = 'query Page ($size: Int!) { tasks(pageSize: $size) { total pageSize nodes { id type status } } }'
    const first = await gw.gql(query, { size: 5 })
    expect(compiled()).toEqual([])
    expect(first.body.errors).toBeUndefined()
    const second = await gw.gql(query, { size: 5 })
    const third = await gw.gql(query, { size: 6 })
    expect(compiled()).toEqual(['Page:1'])
    expect(second.body).toEqual(first.body)
    expect((third.body.data as { tasks: { nodes: unknown[], pageSize: number } }).tasks.pageSize).toBe(6)
    expect((third.body.data as { tasks: { nodes: unknown[] } }).tasks.nodes).toHaveLength(6)
  })

  it('reports a field Visual Layer broke at its own path, compiled as well, and does not hang', async () => {
    const record = { id: SEED.datasets.ready, display_name: 'Product Images Q1', status_new: 'READY', description: 42, n_images: 'many' }
    gw.emulator.injectFault({ path: `/api/v1/dataset/${SEED.datasets.ready}`, status: 200, body: record, times: 4 })
    const nullable = `{ dataset(id: "${SEED.datasets.ready}") { id displayName status description } }`
    const expected = {
      data: { dataset: { id: SEED.datasets.ready, displayName: 'Product Images Q1', status: 'READY', description: null } },
      errors: [{
        message: `Visual Layer sent an invalid description for dataset ${SEED.datasets.ready}, so description cannot be shown. This is logged for the operators.`,
        locations: [{ line: 1, column: 79 }],
        path: ['dataset', 'description'],
        extensions: { code: 'UPSTREAM_CONTRACT', requestId: 'req-broken' }
      }]
    }
    expect((await gw.gql(nullable, undefined, { 'x-request-id': 'req-broken' })).body).toEqual(expected)
    expect((await gw.gql(nullable, undefined, { 'x-request-id': 'req-broken' })).body).toEqual(expected)
    // A non-null field takes its nearest nullable parent with it; root siblings stay.
    const nonNull = `{ dataset(id: "${SEED.datasets.ready}") { id imageCount } datasets { id } }`
    const graphqlJs = await gw.gql(nonNull, undefined, { 'x-request-id': 'req-broken' })
    const jit = await gw.gql(nonNull, undefined, { 'x-request-id': 'req-broken' })
    expect(compiled()).toEqual([':1', ':1'])
    expect(graphqlJs.body.data).toEqual({ dataset: null, datasets: expect.any(Array) })
    expect(graphqlJs.body.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['dataset', 'imageCount'], 'UPSTREAM_CONTRACT']])
    expect(jit.body).toEqual(graphqlJs.body)
  })

  it("refuses variables that do not coerce in graphql-js's words, compiled or not", async () => {
    const query = 'query ($filter: TaskFilter) { tasks(filter: $filter) { total } }'
    expect((await gw.gql(query, { filter: { startTimeFrom: '2026-03-01T00:00:00Z' } })).status).toBe(200)
    expect((await gw.gql(query, { filter: { startTimeFrom: '2026-03-01T00:00:00Z' } })).status).toBe(200)
    expect(compiled()).toEqual([':1'])
    gw.emulator.reset()
    const res = await gw.gql(query, { filter: { startTimeFrom: 1772409600 } }, { 'x-request-id': 'req-vars' })
    expect(res.status).toBe(400)
    expect(res.body).toEqual({
      data: null,
      errors: [{
        message: 'Variable "$filter" got invalid value 1772409600 at "filter.startTimeFrom"; Expected type "DateTime". DateTime must be an ISO-8601 date or date-time such as 2026-03-01T14:30:00Z; got 1772409600.',
        locations: [{ line: 1, column: 8 }],
        extensions: { code: 'BAD_USER_INPUT', requestId: 'req-vars' }
      }]
    })
    expect(gw.emulator.calls()).toEqual([])
  })

  it('answers fragments, aliases and @include the same compiled', async () => {
    const query = `query Mixed ($with: Boolean!) {
      ready: dataset(id: "${SEED.datasets.ready}") { ...D models @include(if: $with) { id name } }
      draft: dataset(id: "${SEED.datasets.draft}") { ...D }
      missing: dataset(id: "00000000-0000-0000-0000-000000000000") { id }
    }
    fragment D on Dataset { id displayName status isReady }`
    const graphqlJs = await gw.gql(query, { with: true })
    const jit = await gw.gql(query, { with: true })
    const without = await gw.gql(query, { with: false })
    expect(compiled()).toEqual(['Mixed:2'])
    expect(graphqlJs.body.errors).toBeUndefined()
    expect(jit.body).toEqual(graphqlJs.body)
    const data = graphqlJs.body.data as Record<string, Record<string, unknown> | null>
    expect(data.missing).toBeNull()
    expect(without.body.data).toEqual({ ...data, ready: { id: SEED.datasets.ready, displayName: data.ready?.displayName, status: 'READY', isReady: true } })
  })
})

describe('the compiled operations kept', () => {
  const schema = schemaOf('type Query { echo(text: String!): String! }')
  const echo = schema.getQueryType()?.getFields().echo
  if (echo !== undefined) echo.resolve = (_root, { text }: { text?: string }) => text
  const rootValue = {}

  it('are bounded in bytes, the least recently used going first, and a document over the bound is never compiled', async () => {
    const documents = Array.from({ length: 50 }, (_, i) => {
      const text = `query Q${String(i).padStart(2, '0')} ($t: String!) { echo(text: $t) }`
      return parse(text.padEnd(100, ' '))
    })
    // Each document is 100 characters: 20 KB and 20,000 bytes. Room for 10 of them.
    const each = compiledBytes(documents[0]!)
    expect(each).toBe(20 * 1024 + 100 * 200)
    const cache = new CompiledQueries(10 * each)
    for (const document of documents) {
      for (const round of [1, 2]) {
        expect(await cache.execute({ schema, document, rootValue, variableValues: { t: `r${round}` } })).toEqual({ data: { echo: `r${round}` } })
      }
    }
    expect(compiled()).toHaveLength(50)
    expect(cache.size).toBe(10)
    expect(cache.bytes).toBe(10 * each)
    // The last ten are kept: executing them compiles nothing; the first is compiled again.
    vi.mocked(compileQuery).mockClear()
    for (const document of documents.slice(40)) expect(await cache.execute({ schema, document, rootValue, variableValues: { t: 'kept' } })).toEqual({ data: { echo: 'kept' } })
    expect(compiled()).toEqual([])
    expect(await cache.execute({ schema, document: documents[0]!, rootValue, variableValues: { t: 'again' } })).toEqual({ data: { echo: 'again' } })
    expect(compiled()).toEqual(['Q00:1'])
    expect(cache.size).toBe(10)
    const huge = parse('query Huge ($t: String!) { echo(text: $t) }'.padEnd(1001, ' '))
    const small = new CompiledQueries(compiledBytes(huge) - 1)
    vi.mocked(compileQuery).mockClear()
    for (const round of [1, 2, 3]) expect(await small.execute({ schema, document: huge, rootValue, variableValues: { t: `h${round}` } })).toEqual({ data: { echo: `h${round}` } })
    expect(compiled()).toEqual([])
    expect(small.size).toBe(0)
  })

  it('are taken to keep at least the heap a compiled and executed operation holds, and at most 3.5 times it', async () => {
    const items = schemaOf('type Query { item(id: ID, page: Int): Item, items(first: Int): [Item] } type Item { id: ID, name: String, n: Int, child: Item, items(first: Int): [Item] }')
    const item = (id: string): Record<string, unknown> => ({ id, name: `n${id}`, n: 1, child: { id: `${id}c`, name: 'c', n: 2, child: null, items: [] }, items: [{ id: 'x', name: 'x', n: 3, child: null, items: [] }] })
    const fields = items.getQueryType()?.getFields()
    if (fields?.item !== undefined) fields.item.resolve = (_root, { id }: { id?: string }) => item(id ?? '0')
    if (fields?.items !== undefined) fields.items.resolve = () => [item('1'), item('2')]
    const kinds: Record<string, (i: number) => string> = {
      tiny: (i) => `{ item { id${i}: id } }`,
      small: (i) => `query Q${i} ($id: ID) { item(id: $id) { id name n } }`,
      page: (i) => `query P${i} ($f: Int) { items(first: $f) { id name n child { id name } items(first: 2) { id name n child { id } } } }`,
      aliases: (i) => `query A${i} { item { ${Array.from({ length: 300 }, (_, k) => `a${k}: name`).join(' ')} } }`,
      arguments: (i) => `query B${i} { ${Array.from({ length: 100 }, (_, k) => `t${k}: item(id: "${k}", page: ${k}) { id n }`).join(' ')} }`,
      nested: (i) => `query N${i} { ${Array.from({ length: 30 }, (_, k) => `t${k}: item(id: "${k}") { id child { id name child { id name n child { id } } } items(first: 1) { id name } }`).join(' ')} }`
    }
    // The short ones by the hundred, so that each kind holds megabytes.
    const count = (name: string): number => name === 'tiny' || name === 'small' || name === 'page' ? 200 : 40
    const ratios = await estimateOverHeap(kinds, count, async (texts) => {
      const cache = new CompiledQueries(1024 * 1024 * 1024)
      const documents = texts.map((text) => parse(text))
      // Three executions each: the first by graphql-js, then compiled, then compiled code run again.
      for (const document of documents) {
        for (let round = 0; round < 3; round++) expect((await cache.execute({ schema: items, document, rootValue, variableValues: { id: 'a', f: 2 } })).errors).toBeUndefined()
      }
      expect(cache.size).toBe(texts.length)
      return { held: [cache, documents], estimate: cache.bytes }
    })
    expectWithin(ratios, 1, 3.5)
  })
})
