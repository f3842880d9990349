import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import type { TestGateway } from '../helpers/gateway.js'
import { startModeGateway } from '../helpers/modes.js'

/**
 * Cross-site request forgery on the REST door's writes (issue 22, item 12). In AUTH_MODE=none a
 * browser on any site could POST /v1/tasks/{id}/retry or /abort with no content type or text/plain
 * (a "simple" request, sent without asking the gateway first), and the task was retried. Every REST
 * write now needs what a browser cannot send cross-site without a CORS preflight: a JSON content
 * type, or a header such as Authorization; as GraphQL's door does (graphql-http/csrf.ts).
 */

const REFUSAL = 'This POST could come from another website (it has no JSON content type, and no header that makes a browser ask the gateway first), ' +
  'so it is refused to prevent cross-site request forgery; nothing was done. Send it with Content-Type: application/json (an empty body where the ' +
  'operation takes none), or with an Authorization header.'

describe('REST writes refuse what a browser sends cross-site without asking (AUTH_MODE=none)', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startModeGateway('none') })
  afterAll(async () => { await gw.close() })
  beforeEach(() => { gw.emulator.reset() })

  const post = async (path: string, headers: Record<string, string>, body?: string): Promise<{ status: number, type: string | null, body: unknown }> => {
    const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'x-request-id': 'cross-site', ...headers }, ...(body === undefined ? {} : { body }) })
    return { status: res.status, type: res.headers.get('content-type'), body: await res.json() }
  }
  const refused = {
    status: 400,
    type: 'application/problem+json; charset=utf-8',
    body: { type: 'urn:vl-gateway:problem:bad-user-input', title: 'Bad request', status: 400, detail: REFUSAL, code: 'BAD_USER_INPUT', requestId: 'cross-site' }
  }

  it.each([
    ['retry, no content type', `/v1/tasks/${SEED.tasks.errorCreation}/retry`, {}, undefined],
    ['retry, text/plain', `/v1/tasks/${SEED.tasks.errorCreation}/retry`, { 'content-type': 'text/plain' }, ''],
    ['abort, text/plain', `/v1/tasks/${SEED.tasks.indexingCreation}/abort`, { 'content-type': 'text/plain;charset=UTF-8' }, '{}'],
    ['abort, a form', `/v1/tasks/${SEED.tasks.indexingCreation}/abort`, { 'content-type': 'application/x-www-form-urlencoded' }, 'a=1'],
    ['an enrichment as text/plain', `/v1/datasets/${SEED.datasets.ready}/enrichments`, { 'content-type': 'text/plain' },
      JSON.stringify({ models: [{ type: 'CAPTION_IMAGES', modelId: 'vl_image_captioner_v00' }] })]
  ])('refuses %s with a 400 problem, and calls Visual Layer never', async (_name, path, headers, body) => {
    expect(await post(path, headers, body)).toEqual(refused)
    expect(gw.emulator.calls()).toEqual([])
  })

  it('runs a retry sent with Content-Type: application/json and no body, as a client sends it', async () => {
    const answer = await post(`/v1/tasks/${SEED.tasks.errorCreation}/retry`, { 'content-type': 'application/json' })
    expect([answer.status, (answer.body as { status: string }).status]).toEqual([200, 'INITIALIZING'])
    expect(gw.emulator.calls({ method: 'POST' }).map((call) => call.path)).toEqual([`/api/v1/tasks/${SEED.tasks.errorCreation}/retry`])
  })

  it('runs an abort sent with an Authorization header and no content type (a browser never adds one by itself)', async () => {
    const answer = await post(`/v1/tasks/${SEED.tasks.indexingCreation}/abort`, { authorization: 'Bearer anything' })
    expect([answer.status, (answer.body as { status: string }).status]).toEqual([200, 'ABORTED'])
    expect(gw.emulator.calls({ method: 'POST' }).map((call) => call.path)).toEqual([`/api/v1/tasks/${SEED.tasks.indexingCreation}/abort`])
  })
})
