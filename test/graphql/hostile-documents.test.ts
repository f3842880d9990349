import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_ACCOUNTS } from '../../src/emulator/index.js'
import { post, startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { visualLayerToken } from '../helpers/tokens.js'
import { record, wsClient } from '../helpers/ws.js'

/**
 * Documents an attacker would send, each refused quickly, with QUERY_REJECTED (or UNAUTHENTICATED
 * for a caller without a token), no upstream call, no internal error and bounded memory. In
 * passthrough a token of the right shape with a wrong signature is all it takes to be parsed.
 */

/** `levels` fragments, each spreading the next twice: 2^levels fields once spreads are expanded. */
function doublingFragments (levels: number): string {
  const fragments = Array.from({ length: levels }, (_, i) => i === levels - 1
    ? `fragment F${i} on Dataset { id }`
    : `fragment F${i} on Dataset { id ...F${i + 1} ...F${i + 1} }`)
  return `query { datasets { ...F0 } } ${fragments.join(' ')}`
}

const FORGED = `Bearer ${visualLayerToken({ apiKey: DEMO_ACCOUNTS.primary.apiKey, apiSecret: 'not-the-secret-of-this-account' })}`
const FIELDS_MESSAGE = 'The document selects more than 500 fields, the most this gateway accepts. Split it into several requests.'
const TOKENS_MESSAGE = 'The document has more than 3000 tokens, the most this gateway accepts. Split it into several requests, or pass long lists as variables.'
const TOO_DEEP_MESSAGE = 'The document nests too deeply for this gateway to read. Flatten it, or pass long or nested values as variables.'

/**
 * Sends 500 unique documents and returns how far the heap and RSS grew. Garbage is collected every
 * 50 requests, so the heap measures what the gateway keeps, not what V8 has yet to free; RSS also
 * holds freed pages not yet returned (client and gateway share this process), so its bound is looser.
 * Stops at the first measure over a bound rather than run the process out of memory.
 */
async function memoryGrowth (send: (i: number) => Promise<void>): Promise<{ heap: number, rss: number }> {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  gc()
  const before = process.memoryUsage()
  const peak = { heap: 0, rss: 0 }
  for (let i = 0; i < 500; i++) {
    await send(i)
    if (i % 50 === 49) {
      gc()
      const now = process.memoryUsage()
      peak.heap = Math.max(peak.heap, now.heapUsed - before.heapUsed)
      peak.rss = Math.max(peak.rss, now.rss - before.rss)
      if (peak.heap > HEAP_BOUND || peak.rss > RSS_BOUND) break
    }
  }
  return peak
}

const MB = 1024 * 1024
const HEAP_BOUND = 50 * MB
const RSS_BOUND = 200 * MB

const errorLogs = (gw: TestGateway): unknown[] => gw.logs.entries().filter((e) => (e.level as number) >= 50).map((e) => e.msg)

describe('passthrough, with a forged token', () => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startTestGateway({ AUTH_MODE: 'passthrough' })
    // The first document of a process pays for V8 compiling the parser and rules.
    await gw.gql('{ __typename }', undefined, { authorization: FORGED })
  })
  afterAll(async () => { await gw.close() })

  // Spread out, 40 levels are 2^40 fields: a limit that walked the expansion would never answer. How
  // fast it answers is the benchmarks' business, not a timed assertion's (machines here are shared).
  it.each([30, 40])('refuses %i levels of fragments spread twice over HTTP, while /health/live answers', async (levels) => {
    const [res, live] = await Promise.all([
      gw.gql(doublingFragments(levels), undefined, { authorization: FORGED, 'x-request-id': `req-${levels}` }),
      fetch(`${gw.url}/health/live`)
    ])
    expect([res.status, res.body]).toEqual([400, {
      data: null,
      errors: [{ message: FIELDS_MESSAGE, locations: [{ line: 1, column: 1 }], extensions: { code: 'QUERY_REJECTED', requestId: `req-${levels}` } }]
    }])
    expect(live.status).toBe(200)
    expect(gw.emulator.calls()).toEqual([])
  })

  it.each([30, 40])('refuses %i levels of fragments spread twice over WebSocket', async (levels) => {
    const client = wsClient(gw.url, { Authorization: FORGED })
    const connected = new Promise<void>((resolve) => { client.on('connected', () => { resolve() }) })
    try {
      await connected
      const sub = record(client, doublingFragments(levels))
      const refusal = await sub.done.then(() => null, (errors: unknown) => errors)
      expect(refusal).toEqual([{ message: FIELDS_MESSAGE, locations: [{ line: 1, column: 1 }], extensions: { code: 'QUERY_REJECTED', requestId: expect.stringMatching(/:/) as unknown } }])
      expect(gw.emulator.calls()).toEqual([])
    } finally {
      await client.dispose()
    }
  })

  it('refuses a document over the token limit before parsing it, over HTTP and WebSocket', async () => {
    const long = `{ datasetsByIds(ids: [${Array.from({ length: 3000 }, () => '1').join(', ')}]) { id } }`
    const res = await gw.gql(long, undefined, { authorization: FORGED, 'x-request-id': 'req-long' })
    expect([res.status, res.body]).toEqual([400, { data: null, errors: [{ message: TOKENS_MESSAGE, extensions: { code: 'QUERY_REJECTED', requestId: 'req-long' } }] }])
    const client = wsClient(gw.url, { Authorization: FORGED })
    try {
      const refusal = await record(client, long).done.then(() => null, (errors: unknown) => errors)
      expect(refusal).toEqual([{ message: TOKENS_MESSAGE, extensions: { code: 'QUERY_REJECTED', requestId: expect.stringMatching(/:/) as unknown } }])
    } finally {
      await client.dispose()
    }
    expect(gw.emulator.calls()).toEqual([])
  })

  it('keeps memory bounded over 500 unique large documents, and stays up', async () => {
    const ids = Array.from({ length: 50_000 }, () => '1').join(',')
    const statuses = new Set<number>()
    const growth = await memoryGrowth(async (i) => {
      statuses.add((await gw.gql(`{ datasetsByIds(ids: [${ids}]) { id } } # ${i}`, undefined, { authorization: FORGED })).status)
    })
    expect(growth.heap).toBeLessThan(HEAP_BOUND)
    expect(growth.rss).toBeLessThan(RSS_BOUND)
    expect([...statuses]).toEqual([400])
    expect((await fetch(`${gw.url}/health/live`)).status).toBe(200)
    expect(gw.emulator.calls()).toEqual([])
  }, 60_000)

  it('keeps memory bounded over 500 unique documents under the token limit, padded with long comments', async () => {
    const padding = 'x'.repeat(450_000)
    const statuses = new Set<number>()
    const growth = await memoryGrowth(async (i) => {
      statuses.add((await gw.gql(`{ notAField } # ${i} ${padding}`, undefined, { authorization: FORGED })).status)
    })
    expect(growth.heap).toBeLessThan(HEAP_BOUND)
    expect(growth.rss).toBeLessThan(RSS_BOUND)
    expect([...statuses]).toEqual([400])
    expect(gw.emulator.calls()).toEqual([])
  }, 60_000)
})

describe('jwt mode, without a token', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway({ AUTH_MODE: 'jwt', JWT_SECRET: 'a-secret-of-at-least-32-characters!!' }) })
  afterAll(async () => { await gw.close() })

  it('keeps memory bounded over 500 unique schema-only documents over the token limit: not introspection, so unauthenticated', async () => {
    // About 60 KB, under the body limit of requests without a token.
    const names = Array.from({ length: 30_000 }, () => '1').join(',')
    const statuses = new Set<number>()
    const growth = await memoryGrowth(async (i) => {
      statuses.add((await gw.gql(`{ __type(name: [${names}]) { name } } # ${i}`)).status)
    })
    expect(growth.heap).toBeLessThan(HEAP_BOUND)
    expect(growth.rss).toBeLessThan(RSS_BOUND)
    expect([...statuses]).toEqual([401])
    expect((await fetch(`${gw.url}/health/live`)).status).toBe(200)
    expect(gw.emulator.calls()).toEqual([])
  }, 60_000)

  const tooLarge = (requestId: string): unknown => ({
    data: null,
    errors: [{ message: 'A request without a token may only ask for the schema, in at most 64 KB of body. Send an Authorization header.', extensions: { code: 'QUERY_REJECTED', requestId } }]
  })

  it('refuses a body over 64 KB with 413 before reading it, declared or chunked', async () => {
    const document = `{ __schema { queryType { name } } } # ${'x'.repeat(100_000)}`
    const declared = await gw.gql(document, undefined, { 'x-request-id': 'req-big' })
    expect([declared.status, declared.body]).toEqual([413, tooLarge('req-big')])
    const body = new ReadableStream({
      start (controller) {
        controller.enqueue(new TextEncoder().encode(JSON.stringify({ query: document })))
        controller.close()
      }
    })
    const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'req-chunked' }, body, duplex: 'half' } as RequestInit)
    expect([res.status, await res.json()]).toEqual([413, tooLarge('req-chunked')])
    expect(gw.emulator.calls()).toEqual([])
  })

  it('answers a body that is not JSON with 400 QUERY_REJECTED, not an internal error', async () => {
    const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'req-json' }, body: '{not json' })
    expect([res.status, await res.json()]).toEqual([400, {
      data: null,
      errors: [{ message: 'Body is not valid JSON but content-type is set to \'application/json\'', extensions: { code: 'QUERY_REJECTED', requestId: 'req-json' } }]
    }])
    expect(errorLogs(gw)).toEqual([])
  })

  it('still answers a schema-only document without a token', async () => {
    const res = await gw.gql('{ __schema { queryType { name } } }')
    expect([res.status, res.body]).toEqual([200, { data: { __schema: { queryType: { name: 'Query' } } } }])
  })
})

describe('input that is not a document', () => {
  let gw: TestGateway
  let roomy: TestGateway
  beforeAll(async () => {
    gw = await startTestGateway()
    // A token limit too high to stop them, so that the nesting itself is what is refused.
    roomy = await startTestGateway({ MAX_QUERY_TOKENS: '1000000' })
  })
  afterAll(async () => { await gw.close(); await roomy.close() })

  it.each([42, true, 0, 1.5, ['{ __typename }'], { kind: 'Document', definitions: [] }])('refuses the query %j with QUERY_REJECTED, logged at info', async (query) => {
    const res = await post(gw, { query }, { 'x-request-id': 'req-type' })
    expect(res).toEqual({
      status: 400,
      body: { data: null, errors: [{ message: 'The query must be a string holding a GraphQL document.', extensions: { code: 'QUERY_REJECTED', requestId: 'req-type' } }] }
    })
    const refused = gw.logs.entries().filter((e) => e.requestId === 'req-type' && e.msg === 'graphql operation refused or partial')
    expect(refused.map((e) => e.level)).toContain(30)
    expect(errorLogs(gw)).toEqual([])
  })

  it('refuses a query given twice in a GET query string', async () => {
    const res = await fetch(`${gw.url}/graphql?query=${encodeURIComponent('{ __typename }')}&query=x`, { headers: { 'x-request-id': 'req-get', 'graphql-preflight': '1' } })
    expect([res.status, await res.json()]).toEqual([400, {
      data: null,
      errors: [{ message: 'The "query" parameter is given 2 times: send it once.', extensions: { code: 'QUERY_REJECTED', requestId: 'req-get' } }]
    }])
  })

  it('refuses a text that is not GraphQL, even when it is a JSON syntax tree', async () => {
    const res = await gw.gql(JSON.stringify({ kind: 'Document', definitions: [] }), undefined, { 'x-request-id': 'req-json' })
    expect([res.status, res.body]).toEqual([400, {
      data: null,
      errors: [{ message: 'Syntax Error: Expected Name, found String "kind".', locations: [{ line: 1, column: 2 }], extensions: { code: 'QUERY_REJECTED', requestId: 'req-json' } }]
    }])
  })

  it.each([
    ['3,000 nested inline fragments', `{ ${'... on Query { '.repeat(3000)}__typename${' }'.repeat(3000)} }`],
    ['a list literal nested 20,000 deep', `{ datasetsByIds(ids: ${'['.repeat(20_000)}1${']'.repeat(20_000)}) { id } }`]
  ])('refuses %s with a neutral message, under the token limit or not, over HTTP and WebSocket', async (_name, document) => {
    const limited = await gw.gql(document, undefined, { 'x-request-id': 'req-deep' })
    expect([limited.status, limited.body]).toEqual([400, { data: null, errors: [{ message: TOO_DEEP_MESSAGE, extensions: { code: 'QUERY_REJECTED', requestId: 'req-deep' } }] }])
    const unlimited = await roomy.gql(document, undefined, { 'x-request-id': 'req-deep' })
    expect([unlimited.status, unlimited.body]).toEqual([400, { data: null, errors: [{ message: TOO_DEEP_MESSAGE, extensions: { code: 'QUERY_REJECTED', requestId: 'req-deep' } }] }])
    const client = wsClient(roomy.url)
    try {
      const refusal = await record(client, document).done.then(() => null, (errors: unknown) => errors)
      expect(refusal).toEqual([{ message: TOO_DEEP_MESSAGE, extensions: { code: 'QUERY_REJECTED', requestId: expect.stringMatching(/:/) as unknown } }])
    } finally {
      await client.dispose()
    }
    expect(errorLogs(gw)).toEqual([])
    expect(errorLogs(roomy)).toEqual([])
    expect([...gw.emulator.calls(), ...roomy.emulator.calls()]).toEqual([])
  })
})
