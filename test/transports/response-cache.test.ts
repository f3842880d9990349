import { createHash } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { nextCall } from '../helpers/wait.js'

/**
 * The response cache (RESPONSE_CACHE_TTL_MS, src/transports/graphql-http/cached-answers.ts): an identical
 * query within the TTL is answered with the kept body and no upstream call, and is one operation in
 * the logs (`cached: true`); another variable set, operation or media type never shares; answers with
 * errors are never kept; the TTL runs on the clock the test moves; writes through the gateway (GraphQL and
 * REST) drop the answers that read what they wrote, and only those; a GET whose If-None-Match holds the
 * kept answer's ETag gets 304 without executing.
 */

const TTL = 2_000
const QUERY = 'query Status($id: ID!) { dataset(id: $id) { id status } }'
const INDEXING = SEED.datasets.indexing
const READY = SEED.datasets.ready
const DOCUMENT_ID = `sha256:${createHash('sha256').update(QUERY).digest('hex')}`
const TWO_OPERATIONS = `query A { dataset(id: "${READY}") { id } } query B { dataset(id: "${READY}") { id } }`

interface Answer { status: number, headers: Headers, text: string }

describe('the response cache', () => {
  let gw: TestGateway
  let dir: string
  let now = 0
  const send = async (body: unknown, headers: Record<string, string> = {}): Promise<Answer> => {
    const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
    return { status: res.status, headers: res.headers, text: await res.text() }
  }
  const get = async (params: Record<string, string>, headers: Record<string, string> = {}): Promise<Answer> => {
    const res = await fetch(`${gw.url}/graphql?${new URLSearchParams(params).toString()}`, { headers: { 'graphql-preflight': '1', ...headers } })
    return { status: res.status, headers: res.headers, text: await res.text() }
  }
  const status = async (id: string): Promise<unknown> => JSON.parse((await send({ query: QUERY, variables: { id } })).text)
  const upstream = (): string[] => gw.emulator.calls().map((call) => `${call.method} ${call.path}`)
  const lines = (): Array<{ operation: { name: string | null, upstreamCalls: number, outcome: string, cached?: boolean } }> =>
    gw.logs.entries().filter((line) => typeof line.msg === 'string' && line.msg.startsWith('graphql operation')) as never

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vlgw-response-cache-'))
    const manifest = join(dir, 'manifest.json')
    await writeFile(manifest, JSON.stringify({ [DOCUMENT_ID]: QUERY }))
    gw = await startTestGateway({ RESPONSE_CACHE_TTL_MS: String(TTL), TRUSTED_DOCUMENTS: manifest }, { responseCacheClock: () => now })
  })
  afterAll(async () => {
    await gw.close()
    await rm(dir, { recursive: true, force: true })
  })
  beforeEach(() => {
    // Every answer kept by the test before is past its TTL.
    now += TTL
    gw.emulator.reset()
    gw.logs.clear()
  })

  it('answers an identical query from the cache: the same body, no upstream call, one operation line that says cached', async () => {
    const first = await send({ query: QUERY, variables: { id: READY } })
    const again = await send({ query: QUERY, variables: { id: READY } })
    expect(JSON.parse(first.text)).toEqual({ data: { dataset: { id: READY, status: 'READY' } } })
    expect([again.status, again.text, again.headers.get('content-type')]).toEqual([200, first.text, 'application/json; charset=utf-8'])
    expect(upstream()).toEqual([`GET /api/v1/dataset/${READY}`])
    expect(lines().map((line) => line.operation)).toEqual([
      expect.objectContaining({ name: 'Status', upstreamCalls: 1, outcome: 'ok' }),
      expect.objectContaining({ name: 'Status', upstreamCalls: 0, outcome: 'ok', cached: true })
    ])
    expect('cached' in (lines()[0]?.operation ?? {})).toBe(false)
  })

  it('counts each lookup, and the bytes of what it keeps: the key, the body, its media type and ETag, the datasets read', async () => {
    const counts = async (): Promise<Record<string, number>> =>
      Object.fromEntries((await gw.app.metrics.responseCache.get()).values.map(({ labels, value }) => [String(labels.result), value]))
    const bytes = async (): Promise<number> => (await gw.app.metrics.registry.getSingleMetric('vlgw_response_cache_bytes')?.get())?.values[0]?.value ?? -1
    const [countsBefore, bytesBefore] = [await counts(), await bytes()]
    const query = 'query Sized($id: ID!) { dataset(id: $id) { id } }'
    const first = await send({ query, variables: { id: READY } })
    await send({ query, variables: { id: READY } })
    // No operationName was sent: the key holds an empty one.
    const key = `service\u0000json\u0000\u0000{"id":"${READY}"}\u0000${query}`
    const size = (key.length + first.text.length + 'application/json; charset=utf-8'.length + 29) * 2 + 400 + READY.length * 2 + 100
    expect(await bytes()).toBe(bytesBefore + size)
    const after = await counts()
    expect(['hit', 'miss', 'kept'].map((result) => (after[result] ?? 0) - (countsBefore[result] ?? 0))).toEqual([1, 1, 1])
  })

  it('never shares between variables, operations or media types; variables in another order are the same', async () => {
    await status(READY)
    expect(await status(INDEXING)).toEqual({ data: { dataset: { id: INDEXING, status: 'INDEXING' } } })
    const reordered = await send({ query: 'query Two($a: ID!, $b: ID!) { a: dataset(id: $a) { id } b: dataset(id: $b) { id } }', variables: { a: READY, b: INDEXING } })
    const same = await send({ query: 'query Two($a: ID!, $b: ID!) { a: dataset(id: $a) { id } b: dataset(id: $b) { id } }', variables: { b: INDEXING, a: READY } })
    expect(same.text).toBe(reordered.text)
    expect(upstream().length).toBe(4)

    gw.emulator.clearCalls()
    expect(JSON.parse((await send({ query: TWO_OPERATIONS, operationName: 'A' })).text)).toEqual({ data: { dataset: { id: READY } } })
    expect(JSON.parse((await send({ query: TWO_OPERATIONS, operationName: 'B' })).text)).toEqual({ data: { dataset: { id: READY } } })
    const graphqlResponse = await send({ query: QUERY, variables: { id: READY } }, { accept: 'application/graphql-response+json' })
    expect(graphqlResponse.headers.get('content-type')).toBe('application/graphql-response+json; charset=utf-8')
    expect(upstream()).toEqual(Array.from({ length: 3 }, () => `GET /api/v1/dataset/${READY}`))
    expect(lines().filter((line) => line.operation.cached === true).length).toBe(1)
  })

  it('never keeps an answer with errors, nor one that reports its cost', async () => {
    gw.emulator.injectFault({ method: 'GET', path: `/api/v1/dataset/${READY}`, status: 500 })
    const failed = JSON.parse((await send({ query: QUERY, variables: { id: READY } })).text) as { errors: Array<{ extensions: { code: string } }> }
    expect(failed.errors.map((error) => error.extensions.code)).toEqual(['UPSTREAM_ERROR'])
    expect(await status(READY)).toEqual({ data: { dataset: { id: READY, status: 'READY' } } })
    const costed = await send({ query: QUERY, variables: { id: INDEXING } }, { 'x-gateway-cost': 'true' })
    await send({ query: QUERY, variables: { id: INDEXING } }, { 'x-gateway-cost': 'true' })
    expect(JSON.parse(costed.text)).toMatchObject({ extensions: { cost: { upstreamCalls: 1 } } })
    expect(upstream().length).toBe(4)
  })

  it('never keeps what a mutation or a live query answers', async () => {
    const abort = { query: `mutation { abortTask(taskId: "${SEED.tasks.indexingCreation}") { id } }` }
    expect(JSON.parse((await send(abort)).text)).toEqual({ data: { abortTask: { id: SEED.tasks.indexingCreation } } })
    const again = JSON.parse((await send(abort)).text) as { errors: Array<{ extensions: { code: string } }> }
    expect(again.errors.map((error) => error.extensions.code)).toEqual(['CONFLICT'])
    const live = { query: `query Live @live { dataset(id: "${READY}") { id status } }` }
    expect(JSON.parse((await send(live)).text)).toEqual({ data: { dataset: { id: READY, status: 'READY' } } })
    await send(live)
    expect(upstream().filter((call) => call.startsWith('POST')).length).toBe(2)
    expect(upstream().filter((call) => call === `GET /api/v1/dataset/${READY}`).length).toBe(2)
    expect(lines().filter((line) => line.operation.cached === true)).toEqual([])
  })

  it('keeps an answer for the TTL on its clock, not a millisecond more', async () => {
    await status(READY)
    now += TTL - 1
    await status(READY)
    expect(upstream().length).toBe(1)
    now += 1
    await status(READY)
    await status(READY)
    expect(upstream().length).toBe(2)
  })

  it('drops what a GraphQL mutation wrote, and only that: the next query reads afresh', async () => {
    expect(await status(INDEXING)).toEqual({ data: { dataset: { id: INDEXING, status: 'INDEXING' } } })
    await status(READY)
    const aborted = await send({ query: `mutation { abortTask(taskId: "${SEED.tasks.indexingCreation}") { status } }` })
    expect(JSON.parse(aborted.text)).toEqual({ data: { abortTask: { status: 'ABORTED' } } })
    gw.emulator.clearCalls()
    expect(await status(INDEXING)).toEqual({ data: { dataset: { id: INDEXING, status: 'ERROR' } } })
    await status(READY)
    expect(upstream()).toEqual([`GET /api/v1/dataset/${INDEXING}`])
  })

  it('drops what a REST write wrote', async () => {
    await status(INDEXING)
    const res = await fetch(`${gw.url}/v1/tasks/${SEED.tasks.indexingCreation}/abort`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    expect(res.status).toBe(200)
    gw.emulator.clearCalls()
    expect(await status(INDEXING)).toEqual({ data: { dataset: { id: INDEXING, status: 'ERROR' } } })
    expect(upstream()).toEqual([`GET /api/v1/dataset/${INDEXING}`])
  })

  it('drops every answer after a write whose outcome is unknown: its dataset was never told', async () => {
    await status(READY)
    gw.emulator.injectFault({ method: 'POST', path: `/api/v1/tasks/${SEED.tasks.indexingCreation}/abort`, drop: true })
    const unknown = JSON.parse((await send({ query: `mutation { abortTask(taskId: "${SEED.tasks.indexingCreation}") { status } }` })).text) as {
      errors: Array<{ extensions: { code: string } }>
    }
    expect(unknown.errors.map((error) => error.extensions.code)).toEqual(['UPSTREAM_UNAVAILABLE'])
    await status(READY)
    expect(upstream().filter((call) => call.startsWith('GET')).length).toBe(2)
  })

  it('does not keep an answer whose execution began before a write: it may have read what the write changed', async () => {
    gw.emulator.injectFault({ method: 'GET', path: `/api/v1/dataset/${INDEXING}`, hold: 'read' })
    const held = nextCall(gw.emulator, { method: 'GET', path: `/api/v1/dataset/${INDEXING}`, phase: 'arrived' })
    const early = status(INDEXING)
    await held
    await send({ query: `mutation { abortTask(taskId: "${SEED.tasks.indexingCreation}") { status } }` })
    gw.emulator.release('read')
    // The emulator answers a held read with its state when released; Visual Layer may have answered before the write.
    expect(await early).toEqual({ data: { dataset: { id: INDEXING, status: 'ERROR' } } })
    await status(INDEXING)
    await status(INDEXING)
    expect(upstream().filter((call) => call === `GET /api/v1/dataset/${INDEXING}`).length).toBe(2)
  })

  it('answers a GET whose If-None-Match holds the kept answer\'s ETag with 304, executing nothing', async () => {
    const params = { query: QUERY, variables: JSON.stringify({ id: READY }) }
    const first = await get(params)
    const etag = first.headers.get('etag')
    expect([first.status, first.headers.get('cache-control')]).toEqual([200, 'private, no-cache'])
    const hit = await get(params)
    expect([hit.status, hit.text, hit.headers.get('etag')]).toEqual([200, first.text, etag])
    const unchanged = await get(params, { 'if-none-match': String(etag) })
    expect([unchanged.status, unchanged.text, unchanged.headers.get('etag'), unchanged.headers.get('cache-control')]).toEqual([304, '', etag, 'private, no-cache'])
    expect(upstream()).toEqual([`GET /api/v1/dataset/${READY}`])
    expect(lines().map((line) => line.operation.cached === true)).toEqual([false, true, true])
  })

  it('answers a trusted document by its id from the answer its text left, and a 304 for its ETag', async () => {
    const byText = await get({ query: QUERY, variables: JSON.stringify({ id: READY }) })
    const byId = await get({ documentId: DOCUMENT_ID, variables: JSON.stringify({ id: READY }) })
    expect([byId.status, byId.text, byId.headers.get('etag')]).toEqual([200, byText.text, byText.headers.get('etag')])
    const unchanged = await get({ documentId: DOCUMENT_ID, variables: JSON.stringify({ id: READY }) }, { 'if-none-match': String(byText.headers.get('etag')) })
    expect(unchanged.status).toBe(304)
    expect(upstream()).toEqual([`GET /api/v1/dataset/${READY}`])
  })
})
