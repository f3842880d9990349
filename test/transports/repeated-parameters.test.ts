import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'

/**
 * A GraphQL parameter given twice in a GET's query string (issue 22, item 6). Fastify reads a
 * repeated parameter as a list, graphql-sse reads its first value: `?query=<subscription>&query=
 * <subscription>` went past the trusted documents check, which saw no text, and graphql-sse ran the
 * subscription. Every GET door (SSE, GraphQL over HTTP) now refuses a repeated query,
 * operationName, variables, extensions or documentId with one 400 QUERY_REJECTED naming it, before
 * anything runs; with or without TRUSTED_DOCUMENTS_ONLY. The REST door names it too.
 */

const MANIFEST_PATH = fileURLToPath(new URL('../../examples/frontend/gql/persisted-documents.json', import.meta.url))
const manifest = JSON.parse(await readFile(MANIFEST_PATH, 'utf8')) as Record<string, string>
const TRUSTED_SUBSCRIPTION = Object.values(manifest).find((text) => text.startsWith('subscription DatasetStatus')) ?? ''
/** Not in the manifest. */
const SUBSCRIPTION = `subscription { datasetStatusChanged(datasetId: "${SEED.datasets.indexing}") { status } }`
const VARIABLES = JSON.stringify({ datasetId: SEED.datasets.indexing })

const refusal = (name: string, times: number, requestId: string): unknown => ({
  data: null,
  errors: [{ message: `The "${name}" parameter is given ${times} times: send it once.`, extensions: { code: 'QUERY_REJECTED', requestId } }]
})

/** The query string of `pairs`, in order, keys and values encoded. */
const search = (pairs: Array<[string, string]>): string => pairs.map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`).join('&')

const CASES: Array<[string, Array<[string, string]>]> = [
  ['query', [['query', SUBSCRIPTION], ['query', SUBSCRIPTION]]],
  ['query', [['query', TRUSTED_SUBSCRIPTION], ['query', SUBSCRIPTION], ['variables', VARIABLES]]],
  ['operationName', [['query', TRUSTED_SUBSCRIPTION], ['variables', VARIABLES], ['operationName', 'DatasetStatus'], ['operationName', 'Other']]],
  ['variables', [['query', TRUSTED_SUBSCRIPTION], ['variables', VARIABLES], ['variables', VARIABLES]]],
  ['extensions', [['query', TRUSTED_SUBSCRIPTION], ['variables', VARIABLES], ['extensions', '{}'], ['extensions', '{}']]],
  ['documentId', [['documentId', 'sha256:1'], ['documentId', 'sha256:2'], ['variables', VARIABLES]]]
]

describe.each([
  ['TRUSTED_DOCUMENTS_ONLY=true', { TRUSTED_DOCUMENTS: MANIFEST_PATH, TRUSTED_DOCUMENTS_ONLY: 'true' }],
  ['no trusted documents', {}]
])('a GraphQL parameter given twice in a GET (%s)', (_name, env) => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway({ ...env, POLL_INTERVAL_MS: '250' }) })
  afterAll(async () => { await gw.close() })
  beforeEach(() => { gw.emulator.clearCalls() })

  it.each(CASES)('GET /graphql/stream (SSE) refuses a repeated %s with 400 naming it, and runs nothing', async (name, pairs) => {
    const controller = new AbortController()
    const res = await fetch(`${gw.url}/graphql/stream?${search(pairs)}`, {
      headers: { accept: 'text/event-stream', 'x-request-id': 'repeated-sse' },
      signal: controller.signal
    })
    // Before the fix it was a stream: read it no further.
    if (res.status === 200) controller.abort()
    expect([res.status, res.headers.get('content-type'), res.status === 200 ? null : await res.json()])
      .toEqual([400, 'application/json; charset=utf-8', refusal(name, 2, 'repeated-sse')])
    expect(gw.emulator.calls()).toEqual([])
  })

  it.each(CASES)('GET /graphql refuses a repeated %s with 400 naming it, and runs nothing', async (name, pairs) => {
    const res = await fetch(`${gw.url}/graphql?${search(pairs)}`, { headers: { 'graphql-preflight': '1', 'x-request-id': 'repeated-get' } })
    expect([res.status, await res.json()]).toEqual([400, refusal(name, 2, 'repeated-get')])
    expect(gw.emulator.calls()).toEqual([])
  })

  it('counts every copy, and reads a key written with escapes as the same key', async () => {
    const pairs: Array<[string, string]> = [['query', SUBSCRIPTION], ['qu%65ry', SUBSCRIPTION], ['query', SUBSCRIPTION]]
    const controller = new AbortController()
    const res = await fetch(`${gw.url}/graphql/stream?${pairs.map(([key, value]) => `${key}=${encodeURIComponent(value)}`).join('&')}`, {
      headers: { accept: 'text/event-stream', 'x-request-id': 'thrice' },
      signal: controller.signal
    })
    if (res.status === 200) controller.abort()
    expect([res.status, res.status === 200 ? null : await res.json()]).toEqual([400, refusal('query', 3, 'thrice')])
    expect(gw.emulator.calls()).toEqual([])
  })

  it('REST: a repeated query parameter of an event stream is a 400 problem naming it', async () => {
    const res = await fetch(`${gw.url}/v1/datasets/${SEED.datasets.ready}/events?follow=true&follow=false`, { headers: { 'x-request-id': 'repeated-rest' } })
    expect([res.status, await res.json()]).toEqual([400, {
      type: 'urn:vl-gateway:problem:bad-user-input',
      title: 'Bad request',
      status: 400,
      detail: 'Query parameter follow must be given once, as text.',
      code: 'BAD_USER_INPUT',
      requestId: 'repeated-rest'
    }])
    expect(gw.emulator.calls()).toEqual([])
  })
})
