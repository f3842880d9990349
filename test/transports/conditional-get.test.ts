import { createHash } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { DEMO_ACCOUNTS, SEED } from '../../src/emulator/index.js'
import type { TestGateway } from '../helpers/gateway.js'
import { AUTH_MODES, freshToken, startModeGateway } from '../helpers/modes.js'

/**
 * Issue 27: GETs answer conditionally. GraphQL over HTTP's GET (a query's text, or a trusted document's
 * id) and REST's GETs under /v1 carry a strong ETag over their bytes and `Cache-Control: private,
 * no-cache`; If-None-Match with it gets 304 and no body; a change made through the gateway gives 200
 * and a new ETag; an answer with errors and a POST get none; a caller of another credential scope never
 * gets a 304 for bytes that are not its own. In every auth mode.
 */

const DATASET = SEED.datasets.indexing
const QUERY = `query Watched { dataset(id: "${DATASET}") { id status } }`
const DOCUMENT_ID = `sha256:${createHash('sha256').update(QUERY).digest('hex')}`
const ETAG = /^"[\w-]{27}"$/

interface Answer { status: number, headers: Headers, text: string }

describe.each(AUTH_MODES)('conditional GETs (AUTH_MODE=%s)', (mode) => {
  let gw: TestGateway
  let dir: string
  const token = freshToken(mode)
  const send = async (path: string, headers: Record<string, string> = {}, init: RequestInit = {}, as: string | null = token): Promise<Answer> => {
    const res = await fetch(`${gw.url}${path}`, { ...init, headers: { ...(as === null ? {} : { authorization: `Bearer ${as}` }), ...headers } })
    return { status: res.status, headers: res.headers, text: await res.text() }
  }
  const graphqlGet = async (params: Record<string, string>, headers: Record<string, string> = {}, as: string | null = token): Promise<Answer> =>
    // graphql-preflight: a GET without a token (none mode) is otherwise refused as a possible cross-site request.
    await send(`/graphql?${new URLSearchParams(params).toString()}`, { 'graphql-preflight': '1', ...headers }, {}, as)
  const abort = async (): Promise<void> => {
    const res = await send('/graphql', { 'content-type': 'application/json' }, {
      method: 'POST', body: JSON.stringify({ query: `mutation { abortTask(taskId: "${SEED.tasks.indexingCreation}") { status } }` })
    })
    expect([res.status, JSON.parse(res.text)]).toEqual([200, { data: { abortTask: { status: 'ABORTED' } } }])
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vlgw-conditional-'))
    const manifest = join(dir, 'manifest.json')
    await writeFile(manifest, JSON.stringify({ [DOCUMENT_ID]: QUERY }))
    gw = await startModeGateway(mode, { TRUSTED_DOCUMENTS: manifest })
  })
  afterAll(async () => {
    await gw.close()
    await rm(dir, { recursive: true, force: true })
  })
  beforeEach(() => {
    gw.emulator.reset()
  })

  it.each([
    ['a query\'s text', { query: QUERY }],
    ['a trusted document\'s id', { documentId: DOCUMENT_ID }]
  ])('GraphQL GET by %s: ETag, 304 with no body on a match, 200 with a new ETag after a change', async (_name, params) => {
    const first = await graphqlGet(params)
    const etag = first.headers.get('etag')
    expect([first.status, JSON.parse(first.text), first.headers.get('cache-control')])
      .toEqual([200, { data: { dataset: { id: DATASET, status: 'INDEXING' } } }, 'private, no-cache'])
    expect(etag).toMatch(ETAG)

    gw.emulator.clearCalls()
    const again = await graphqlGet(params, { 'if-none-match': `W/"other", ${String(etag)}` })
    expect([again.status, again.text, again.headers.get('etag'), again.headers.get('cache-control'), again.headers.get('content-length')])
      .toEqual([304, '', etag, 'private, no-cache', null])
    // The query ran to tell: one read of the dataset.
    expect(gw.emulator.calls().map((call) => call.path)).toEqual([`/api/v1/dataset/${DATASET}`])

    await abort()
    const changed = await graphqlGet(params, { 'if-none-match': String(etag) })
    expect([changed.status, JSON.parse(changed.text)]).toEqual([200, { data: { dataset: { id: DATASET, status: 'ERROR' } } }])
    expect(changed.headers.get('etag')).toMatch(ETAG)
    expect(changed.headers.get('etag')).not.toBe(etag)
  })

  it('REST GET: ETag, 304 with no body on a match, 200 with a new ETag after a change through the gateway', async () => {
    const first = await send(`/v1/datasets/${DATASET}`)
    const etag = first.headers.get('etag')
    expect([first.status, (JSON.parse(first.text) as { status: string }).status, first.headers.get('cache-control')]).toEqual([200, 'INDEXING', 'private, no-cache'])
    expect(etag).toMatch(ETAG)
    const again = await send(`/v1/datasets/${DATASET}`, { 'if-none-match': String(etag) })
    expect([again.status, again.text, again.headers.get('etag')]).toEqual([304, '', etag])

    const aborted = await send(`/v1/tasks/${SEED.tasks.indexingCreation}/abort`, { 'content-type': 'application/json' }, { method: 'POST' })
    expect([aborted.status, aborted.headers.get('etag')]).toEqual([200, null])
    const changed = await send(`/v1/datasets/${DATASET}`, { 'if-none-match': String(etag) })
    expect([changed.status, (JSON.parse(changed.text) as { status: string }).status]).toEqual([200, 'ERROR'])
    expect(changed.headers.get('etag')).toMatch(ETAG)
    expect(changed.headers.get('etag')).not.toBe(etag)
  })

  it('gives no ETag to an answer with errors, nor to a POST', async () => {
    const failed = await graphqlGet({ query: '{ dataset(id: "not-an-id") { id } }' })
    expect(failed.text).toContain('"errors"')
    expect([failed.headers.get('etag'), failed.headers.get('cache-control')]).toEqual([null, null])
    const posted = await send('/graphql', { 'content-type': 'application/json' }, { method: 'POST', body: JSON.stringify({ query: QUERY }) })
    expect([posted.status, posted.headers.get('etag'), posted.headers.get('cache-control')]).toEqual([200, null, null])
  })

  it('never answers 304 to a caller of another scope for bytes that are not its own', async () => {
    const list = '{ datasets { id } }'
    const mine = await graphqlGet({ query: list })
    const etag = String(mine.headers.get('etag'))
    const restMine = await send('/v1/datasets')
    const restEtag = String(restMine.headers.get('etag'))
    // passthrough: another Visual Layer account sees other datasets; none and jwt: one service scope, any caller.
    const other = mode === 'passthrough' ? freshToken(mode, { account: DEMO_ACCOUNTS.secondary }) : freshToken(mode, { subject: 'another-user' })
    const theirs = await graphqlGet({ query: list }, { 'if-none-match': etag }, other)
    const restTheirs = await send('/v1/datasets', { 'if-none-match': restEtag }, {}, other)
    if (mode === 'passthrough') {
      expect([theirs.status, restTheirs.status]).toEqual([200, 200])
      expect(JSON.parse(theirs.text)).toEqual({ data: { datasets: [{ id: SEED.datasets.secondaryError }, { id: SEED.datasets.secondaryReady }, { id: SEED.datasets.secondaryAccount }] } })
      expect([theirs.headers.get('etag') === etag, restTheirs.headers.get('etag') === restEtag]).toEqual([false, false])
    } else {
      // The same scope sees the same bytes: the ETag it already holds is current.
      expect([theirs.status, theirs.text, theirs.headers.get('etag'), restTheirs.status, restTheirs.headers.get('etag')]).toEqual([304, '', etag, 304, restEtag])
    }
  })
})
