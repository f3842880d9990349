import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { ConfigError, hasRemoteUpstream, loadConfig } from '../../src/config.js'
import { DEMO_ACCOUNTS, SEED } from '../../src/emulator/index.js'
import { post, startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { connectionParams, freshToken, startModeGateway } from '../helpers/modes.js'
import { bearer, sseClient } from '../helpers/sse.js'
import { wsClient } from '../helpers/ws.js'

/**
 * Trusted documents, with the manifest the example frontend's codegen wrote
 * (examples/frontend/gql/persisted-documents.json): its documents run by id (`documentId` and
 * `extensions.persistedQuery`) over HTTP POST and GET, WebSocket and SSE; with
 * TRUSTED_DOCUMENTS_ONLY an edited document, an unknown id and introspection are refused with
 * QUERY_REJECTED and cost Visual Layer nothing; the REST door is unaffected; a bad manifest stops
 * start-up with a message naming the problem.
 */

const MANIFEST_PATH = fileURLToPath(new URL('../../examples/frontend/gql/persisted-documents.json', import.meta.url))
const manifest = JSON.parse(await readFile(MANIFEST_PATH, 'utf8')) as Record<string, string>
/** The id and text of the manifest's operation `name`. */
function entry (name: string): { id: string, hex: string, text: string } {
  const found = Object.entries(manifest).find(([, text]) => new RegExp(`^(query|mutation|subscription) ${name}\\b`).test(text))
  if (found === undefined) throw new Error(`no ${name} in the manifest`)
  return { id: found[0], hex: found[0].replace(/^sha256:/, ''), text: found[1] }
}
const MODELS = entry('DatasetWithModels')
const STATUS = entry('DatasetStatus')
const UNKNOWN_ID = `sha256:${'0'.repeat(64)}`

const DATASET_WITH_MODELS = {
  dataset: {
    creationStatus: { progress: 100, status: 'READY' },
    displayName: 'Product Images Q1',
    errorMessage: null,
    isReady: true,
    models: [
      { dependencies: [], id: 'vl_image_captioner_v00', name: 'VL-Image-Captioner', type: 'CAPTION_IMAGES' },
      { dependencies: [], id: 'vl_object_detector_v00', name: 'VL-Object-Detector', type: 'OBJECT_DETECTION' },
      { dependencies: ['OBJECT_DETECTION'], id: 'vl_object_captioner_v00', name: 'VL-Object-Captioner', type: 'CAPTION_OBJECTS' }
    ],
    status: 'READY'
  }
}
/** What DatasetWithModels asks Visual Layer. */
const MODELS_CALLS = [
  `GET /api/v1/dataset/${SEED.datasets.ready}`,
  `GET /api/v1/datasets/${SEED.datasets.ready}/creation-status`,
  `GET /api/v1/enrichment/${SEED.datasets.ready}/list_models`
]
const ERROR_EVENT = { data: { datasetStatusChanged: { imageCount: 1204, progress: 37, status: 'ERROR' } } }
const ONLY_TRUSTED = 'This gateway accepts only trusted documents: send the "documentId" of a document in its manifest (TRUSTED_DOCUMENTS) instead of a text it does not hold.'
const UNKNOWN = `No trusted document has the id "${UNKNOWN_ID}": use the ids of the manifest this gateway loads (TRUSTED_DOCUMENTS).`
const rejected = (message: string): unknown => ({ data: null, errors: [{ message, extensions: { code: 'QUERY_REJECTED', requestId: expect.any(String) } }] })
const streamRejected = rejected
/** DatasetWithModels edited: one field more than the trusted text. */
const EDITED = MODELS.text.replace('errorMessage', 'errorMessage description')

async function get (gw: TestGateway, params: Record<string, string>, headers: Record<string, string>): Promise<{ status: number, body: unknown }> {
  const res = await fetch(`${gw.url}/graphql?${new URLSearchParams(params).toString()}`, { headers })
  return { status: res.status, body: await res.json() }
}

interface Subscriber {
  subscribe: (payload: Record<string, unknown>, sink: { next: (value: unknown) => void, error: (err: unknown) => void, complete: () => void }) => () => void
}

/** Runs `payload` (which may name a document by id) with a graphql-ws or graphql-sse client: its events, then how it ended. */
async function run (client: unknown, payload: Record<string, unknown>): Promise<{ events: unknown[], error?: unknown }> {
  const events: unknown[] = []
  return await new Promise((resolve) => {
    (client as Subscriber).subscribe(payload, {
      next: (value) => { events.push(value) },
      error: (error) => { resolve({ events, error }) },
      complete: () => { resolve({ events }) }
    })
  })
}

/** The `next` payloads of a distinct-connections SSE stream read to its end. */
async function sseEvents (res: Response): Promise<unknown[]> {
  const text = await res.text()
  return [...text.matchAll(/^event: next\ndata: (.*)$/gm)].map((match) => JSON.parse(match[1] ?? 'null') as unknown)
}

describe('trusted documents (AUTH_MODE=jwt, TRUSTED_DOCUMENTS_ONLY=true)', () => {
  let gw: TestGateway
  let auth: Record<string, string>
  const calls = (): string[] => gw.emulator.calls().map((call) => `${call.method} ${call.path}`)
  beforeAll(async () => {
    gw = await startModeGateway('jwt', { TRUSTED_DOCUMENTS: MANIFEST_PATH, TRUSTED_DOCUMENTS_ONLY: 'true', POLL_INTERVAL_MS: '250' })
    auth = bearer(freshToken('jwt', { ttlSec: 3600 }))
  })
  afterAll(async () => { await gw.close() })

  it('runs a document named by documentId or by extensions.persistedQuery, over POST and GET', async () => {
    const variables = { id: SEED.datasets.ready }
    const ok = { status: 200, body: { data: DATASET_WITH_MODELS } }
    expect(await post(gw, { documentId: MODELS.id, variables }, auth)).toEqual(ok)
    expect(await post(gw, { extensions: { persistedQuery: { version: 1, sha256Hash: MODELS.hex } }, variables }, auth)).toEqual(ok)
    expect(await get(gw, { documentId: MODELS.id, variables: JSON.stringify(variables) }, auth)).toEqual(ok)
    const extensions = JSON.stringify({ persistedQuery: { version: 1, sha256Hash: MODELS.hex } })
    expect(await get(gw, { extensions, variables: JSON.stringify(variables) }, auth)).toEqual(ok)
    // The trusted text itself, sent whole, is trusted too (its sha256 is in the manifest).
    expect(await post(gw, { query: MODELS.text, variables }, auth)).toEqual(ok)
  })

  it('runs every query of the manifest by id over GET, with the answer its text gets over POST', async () => {
    const queries = Object.entries(manifest).filter(([, text]) => text.startsWith('query '))
    expect(queries.map(([, text]) => /^query (\w+)/.exec(text)?.[1])).toEqual(['Dashboard', 'DatasetWithModels', 'TaskManager'])
    for (const [id, text] of queries) {
      const variables = JSON.stringify(text.includes('$id') ? { id: SEED.datasets.ready } : {})
      const byText = await post(gw, { query: text, variables: JSON.parse(variables) as unknown }, auth)
      expect(byText.status, id).toBe(200)
      expect((byText.body as { errors?: unknown }).errors, id).toBeUndefined()
      expect(await get(gw, { documentId: id, variables }, auth), id).toEqual(byText)
    }
  })

  it('runs a subscription named by id over WebSocket (beside the "query": "" graphql-ws requires) and over SSE, in both modes and by GET', async () => {
    const ws = wsClient(gw.url, connectionParams('jwt'))
    try {
      expect(await run(ws, { query: '', documentId: STATUS.id, variables: { datasetId: SEED.datasets.error } })).toEqual({ events: [ERROR_EVENT] })
      const persistedQuery = { version: 1, sha256Hash: STATUS.hex }
      expect(await run(ws, { query: '', extensions: { persistedQuery }, variables: { datasetId: SEED.datasets.error } })).toEqual({ events: [ERROR_EVENT] })
      expect(await run(ws, { query: '', documentId: MODELS.id, variables: { id: SEED.datasets.ready } })).toEqual({ events: [{ data: DATASET_WITH_MODELS }] })
    } finally {
      await ws.dispose()
    }
    for (const singleConnection of [false, true]) {
      const client = sseClient(gw.url, singleConnection, { ...auth })
      expect(await run(client, { documentId: STATUS.id, variables: { datasetId: SEED.datasets.error } }), `singleConnection: ${String(singleConnection)}`)
        .toEqual({ events: [ERROR_EVENT] })
      const persistedQuery = { version: 1, sha256Hash: STATUS.hex }
      expect(await run(client, { query: '', extensions: { persistedQuery }, variables: { datasetId: SEED.datasets.error } }), `singleConnection: ${String(singleConnection)}`)
        .toEqual({ events: [ERROR_EVENT] })
      client.dispose()
    }
    const res = await fetch(`${gw.url}/graphql/stream?${new URLSearchParams({ documentId: STATUS.id, variables: JSON.stringify({ datasetId: SEED.datasets.error }) }).toString()}`, {
      headers: { ...auth, accept: 'text/event-stream' }
    })
    expect(res.status).toBe(200)
    expect(await sseEvents(res)).toEqual([ERROR_EVENT])
  })

  it('refuses an edited document, an unknown id, a text that is not the document its id names, and introspection, asking Visual Layer nothing', async () => {
    const variables = { id: SEED.datasets.ready }
    gw.emulator.clearCalls()
    expect(await post(gw, { query: EDITED, variables }, auth)).toEqual({ status: 400, body: rejected(ONLY_TRUSTED) })
    expect(await get(gw, { query: EDITED, variables: JSON.stringify(variables) }, auth)).toEqual({ status: 400, body: rejected(ONLY_TRUSTED) })
    expect(await post(gw, { documentId: UNKNOWN_ID, variables }, auth)).toEqual({ status: 400, body: rejected(UNKNOWN) })
    expect(await post(gw, { extensions: { persistedQuery: { version: 1, sha256Hash: '0'.repeat(64) } }, variables }, auth))
      .toEqual({ status: 400, body: rejected(`No trusted document has the id "${'0'.repeat(64)}": use the ids of the manifest this gateway loads (TRUSTED_DOCUMENTS).`) })
    expect(await post(gw, { documentId: MODELS.id, query: EDITED, variables }, auth))
      .toEqual({ status: 400, body: rejected('The "query" sent is not the document "documentId" names: send the id alone.') })
    expect(await post(gw, { extensions: { persistedQuery: { version: 2, sha256Hash: MODELS.hex } } }, auth))
      .toEqual({ status: 400, body: rejected('Only version 1 of "extensions.persistedQuery" is supported, got 2.') })
    expect(await post(gw, { documentId: 'abc' }, auth))
      .toEqual({ status: 400, body: rejected('"documentId" must be a sha256 document id (sha256:<64 hex digits>), got "abc".') })
    expect(await post(gw, { query: '{ __schema { queryType { name } } }' }, auth)).toEqual({ status: 400, body: rejected(ONLY_TRUSTED) })
    // A caller without a token learns only that it needs one.
    expect(await post(gw, { documentId: UNKNOWN_ID })).toEqual({
      status: 401,
      body: { data: null, errors: [{ message: 'Missing Authorization header: send "Authorization: Bearer <token>".', extensions: { code: 'UNAUTHENTICATED', requestId: expect.any(String) } }] }
    })

    const ws = wsClient(gw.url, connectionParams('jwt'))
    try {
      const edited = await run(ws, { query: STATUS.text.replace('imageCount', 'imageCount id'), variables: { datasetId: SEED.datasets.error } })
      expect(edited).toEqual({ events: [], error: [{ message: ONLY_TRUSTED, extensions: { code: 'QUERY_REJECTED', requestId: expect.any(String) } }] })
      const unknown = await run(ws, { query: '', documentId: UNKNOWN_ID })
      expect(unknown).toEqual({ events: [], error: [{ message: UNKNOWN, extensions: { code: 'QUERY_REJECTED', requestId: expect.any(String) } }] })
    } finally {
      await ws.dispose()
    }
    const sse = sseClient(gw.url, false, { ...auth })
    expect(await run(sse, { query: STATUS.text.replace('imageCount', 'imageCount id'), variables: { datasetId: SEED.datasets.error } }))
      .toEqual({ events: [streamRejected(ONLY_TRUSTED)] })
    expect(await run(sse, { documentId: UNKNOWN_ID })).toEqual({ events: [streamRejected(UNKNOWN)] })
    sse.dispose()
    const res = await fetch(`${gw.url}/graphql/stream?${new URLSearchParams({ documentId: UNKNOWN_ID }).toString()}`, { headers: { ...auth, accept: 'text/event-stream' } })
    expect(await sseEvents(res)).toEqual([streamRejected(UNKNOWN)])

    // Nothing was sent for them; the next trusted document is, and only its own calls.
    expect(calls()).toEqual([])
    expect(await post(gw, { documentId: MODELS.id, variables }, auth)).toEqual({ status: 200, body: { data: DATASET_WITH_MODELS } })
    expect(calls()).toEqual(MODELS_CALLS)
  })

  it('leaves the REST door as it is', async () => {
    const res = await fetch(`${gw.url}/v1/datasets/${SEED.datasets.ready}/creation-status`, { headers: auth })
    expect({ status: res.status, body: await res.json() }).toEqual({ status: 200, body: { status: 'READY', progress: 100 } })
  })
})

describe('trusted documents without TRUSTED_DOCUMENTS_ONLY, and without a manifest', () => {
  let withManifest: TestGateway
  let without: TestGateway
  beforeAll(async () => {
    withManifest = await startTestGateway({ TRUSTED_DOCUMENTS: MANIFEST_PATH, MAX_QUERY_COST: '100' })
    without = await startTestGateway()
  })
  afterAll(async () => { await Promise.all([withManifest.close(), without.close()]) })

  it('runs ids and any text beside them; an unknown id is told it may send the text', async () => {
    const variables = { id: SEED.datasets.ready }
    expect(await post(withManifest, { documentId: MODELS.id, variables })).toEqual({ status: 200, body: { data: DATASET_WITH_MODELS } })
    expect(await post(withManifest, { query: `{ dataset(id: "${SEED.datasets.ready}") { displayName } }` }))
      .toEqual({ status: 200, body: { data: { dataset: { displayName: 'Product Images Q1' } } } })
    expect(await post(withManifest, { documentId: UNKNOWN_ID })).toEqual({
      status: 400,
      body: rejected(`No trusted document has the id "${UNKNOWN_ID}": use the ids of the manifest this gateway loads (TRUSTED_DOCUMENTS), or send the document's text in "query".`)
    })
  })

  it('checks the document an id names as any other: the dashboard (cost 151) is over MAX_QUERY_COST=100 by id too, over HTTP and WebSocket', async () => {
    const dashboard = entry('Dashboard')
    const message = 'The operation could cost up to 151 Visual Layer calls, more than the 100 this gateway accepts. ' +
      'Ask for fewer items (pageSize, ids) or fewer nested fields, or split it into several requests.'
    withManifest.emulator.clearCalls()
    expect(await post(withManifest, { documentId: dashboard.id })).toEqual({ status: 400, body: rejected(message) })
    const ws = wsClient(withManifest.url)
    try {
      expect(await run(ws, { query: '', documentId: dashboard.id })).toEqual({ events: [], error: [{ message, extensions: { code: 'QUERY_REJECTED', requestId: expect.any(String) } }] })
    } finally {
      await ws.dispose()
    }
    const calls = (): string[] => withManifest.emulator.calls().map((call) => `${call.method} ${call.path}`)
    expect(calls()).toEqual([])
    expect(await post(withManifest, { documentId: MODELS.id, variables: { id: SEED.datasets.ready } })).toEqual({ status: 200, body: { data: DATASET_WITH_MODELS } })
    expect(calls()).toEqual(MODELS_CALLS)
  })

  it('without a manifest, refuses an id alone and runs the text an Apollo client sends beside its hash', async () => {
    expect(await post(without, { documentId: MODELS.id, variables: { id: SEED.datasets.ready } })).toEqual({
      status: 400,
      body: rejected('This gateway has no trusted documents (TRUSTED_DOCUMENTS is not set), so "documentId" cannot name one: send the document\'s text in "query".')
    })
    expect(await post(without, { query: MODELS.text, variables: { id: SEED.datasets.ready }, extensions: { persistedQuery: { version: 1, sha256Hash: MODELS.hex } } }))
      .toEqual({ status: 200, body: { data: DATASET_WITH_MODELS } })
  })
})

describe('trusted documents with TRUSTED_DOCUMENTS_ALLOW_INTROSPECTION', () => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startModeGateway('jwt', { TRUSTED_DOCUMENTS: MANIFEST_PATH, TRUSTED_DOCUMENTS_ONLY: 'true', TRUSTED_DOCUMENTS_ALLOW_INTROSPECTION: 'true' })
  })
  afterAll(async () => { await gw.close() })

  it('lets introspection through, with or without a token, and still refuses other texts', async () => {
    const introspection = { query: '{ __schema { queryType { name } } }' }
    const ok = { status: 200, body: { data: { __schema: { queryType: { name: 'Query' } } } } }
    expect(await post(gw, introspection)).toEqual(ok)
    expect(await post(gw, introspection, bearer(freshToken('jwt')))).toEqual(ok)
    expect(await post(gw, { query: EDITED, variables: { id: SEED.datasets.ready } }, bearer(freshToken('jwt')))).toEqual({ status: 400, body: rejected(ONLY_TRUSTED) })
  })
})

describe('a bad manifest stops start-up', () => {
  let dir: string
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'trusted-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })
  /** buildApp, as the gateway starts (src/start.ts), with a manifest of `content` (none: no file); the ConfigError's problems, or 'started'. */
  const startWith = async (content: string | null): Promise<unknown> => {
    const path = join(dir, `manifest-${Math.random().toString(36).slice(2)}.json`)
    if (content !== null) await writeFile(path, content)
    const config = loadConfig({
      VL_BASE_URL: 'http://127.0.0.1:9',
      VL_API_KEY: DEMO_ACCOUNTS.primary.apiKey,
      VL_API_SECRET: DEMO_ACCOUNTS.primary.apiSecret,
      LOG_LEVEL: 'silent',
      TRUSTED_DOCUMENTS: path
    })
    if (!hasRemoteUpstream(config)) throw new Error('unreachable: VL_BASE_URL is set')
    try {
      const app = await buildApp(config)
      await app.close()
      return 'started'
    } catch (err) {
      return err instanceof ConfigError ? err.problems.map((problem) => problem.replace(path, '<path>')) : err
    }
  }

  it('names the problem: no file, not JSON, not an object, a key that is no sha256 id, or not the sha256 of its document', async () => {
    expect(await startWith(null)).toEqual(['TRUSTED_DOCUMENTS: cannot read "<path>" (ENOENT): expected the path of a persisted documents manifest'])
    expect(await startWith('{"sha256:')).toEqual([expect.stringMatching(/^TRUSTED_DOCUMENTS: "<path>" is not JSON \(.+\): expected \{"sha256:<hex>": "<document>", \.\.\.\}$/)])
    expect(await startWith('["query A { datasets { id } }"]'))
      .toEqual(['TRUSTED_DOCUMENTS: "<path>" is not a JSON object: expected {"sha256:<hex>": "<document>", ...} as the client preset writes it'])
    expect(await startWith('{"md5:abc": "query A { datasets { id } }"}'))
      .toEqual(['TRUSTED_DOCUMENTS: the key "md5:abc" in "<path>" is not a sha256 document id (sha256:<64 hex digits>)'])
    expect(await startWith(JSON.stringify({ [MODELS.id]: EDITED })))
      .toEqual([`TRUSTED_DOCUMENTS: the key ${MODELS.id} in "<path>" is not the sha256 of its document: regenerate the manifest`])
    expect(await startWith(JSON.stringify({ [MODELS.hex]: MODELS.text }))).toBe('started')
  })

  it('TRUSTED_DOCUMENTS_ONLY needs a manifest', () => {
    expect(() => loadConfig({ TRUSTED_DOCUMENTS_ONLY: 'true' })).toThrow(
      'Invalid configuration, the gateway did not start:\n  - TRUSTED_DOCUMENTS_ONLY: needs TRUSTED_DOCUMENTS, the manifest of the documents to accept'
    )
  })
})
