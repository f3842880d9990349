import { fileURLToPath } from 'node:url'
import { createSigner } from 'fast-jwt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_ACCOUNTS } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { visualLayerToken } from '../helpers/tokens.js'

/**
 * Issue 22, item 13: the metrics' operation_name label is bounded (first come), and 100 anonymous
 * `query JunkN { __typename }` used it up, so that the frontend's own operations were counted under
 * "(other)" until restart. A name now earns a label only for an operation that asks the schema for
 * more than introspection and was not refused (its document, its caller or its rate): refusals and
 * `__typename` probes cost an attacker nothing, so they earn nothing. The operations of the trusted
 * documents manifest hold their labels from start-up, apart from the bound.
 */

const MANIFEST = fileURLToPath(new URL('../../examples/frontend/gql/persisted-documents.json', import.meta.url))
const TASK_MANAGER_ID = 'sha256:8a247768444e5ed8fe4f02e2baf743b30e971746c7a4ec2fdb64d9c5f6ba9b42'
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })
const genuine = (): Record<string, string> => bearer(visualLayerToken(DEMO_ACCOUNTS.primary))
let serial = 0
const forged = (): Record<string, string> => bearer(createSigner({ key: 'a-guessed-secret', algorithm: 'HS256', kid: DEMO_ACCOUNTS.primary.apiKey })(
  { sub: DEMO_ACCOUNTS.primary.apiKey, iss: 'sdk', exp: Math.floor(Date.now() / 1000) + 600, jti: `forged-${++serial}` }
))

/** The vlgw_operations_total lines of the exposition, as Prometheus prints them. */
async function operationLines (gw: TestGateway): Promise<string[]> {
  return (await gw.app.metrics.registry.metrics()).split('\n').filter((line) => line.startsWith('vlgw_operations_total{'))
}

async function post (gw: TestGateway, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  await res.arrayBuffer()
  return res.status
}

describe('operation-name labels (passthrough, the default bound of 100)', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway({ AUTH_MODE: 'passthrough' }) })
  afterAll(async () => { await gw.close() })

  it('are not used up by 100 anonymous __typename probes: the page that comes next is counted under its own name', async () => {
    for (let i = 0; i < 100; i++) expect(await post(gw, { query: `query Junk${i} { __typename }` })).toBe(200)
    expect(await post(gw, { query: 'query TaskManagerPage { tasks { total } }' }, genuine())).toBe(200)
    expect(await operationLines(gw)).toEqual([
      'vlgw_operations_total{transport="http",operation_type="query",operation_name="(other)",outcome="ok"} 100',
      'vlgw_operations_total{transport="http",operation_type="query",operation_name="TaskManagerPage",outcome="ok"} 1'
    ])
  })
})

describe('operation-name labels (METRICS_MAX_OPERATION_NAMES=2, a trusted documents manifest)', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway({ AUTH_MODE: 'passthrough', METRICS_MAX_OPERATION_NAMES: '2', TRUSTED_DOCUMENTS: MANIFEST }) })
  afterAll(async () => { await gw.close() })

  it('go first come to operations that ran, never to refused ones; the manifest\'s operations keep theirs', async () => {
    // Refused: forged tokens (Visual Layer refuses each), an invalid document, a document over a limit.
    for (let i = 0; i < 3; i++) expect(await post(gw, { query: `query Forged${i} { datasets { id } }` }, forged())).toBe(401)
    expect(await post(gw, { query: 'query Invalid { datasets { nope } }' }, genuine())).toBe(400)
    expect(await post(gw, { query: 'query Costly { tasks(pageSize: 50) { nodes { dataset { sourceDataset { enrichment { applied { model { id } } } } } } } }' }, genuine())).toBe(400)
    // Ran: the first two names take the two labels, the third shares "(other)".
    for (let i = 0; i < 3; i++) expect(await post(gw, { query: `query Ran${i} { datasets { id } }` }, genuine())).toBe(200)
    // The manifest's TaskManager, by id: its label was kept for it.
    expect(await post(gw, { documentId: TASK_MANAGER_ID }, genuine())).toBe(200)
    expect(await operationLines(gw)).toEqual([
      'vlgw_operations_total{transport="http",operation_type="query",operation_name="(other)",outcome="UNAUTHENTICATED"} 3',
      'vlgw_operations_total{transport="http",operation_type="unknown",operation_name="(other)",outcome="QUERY_REJECTED"} 1',
      'vlgw_operations_total{transport="http",operation_type="query",operation_name="(other)",outcome="QUERY_REJECTED"} 1',
      'vlgw_operations_total{transport="http",operation_type="query",operation_name="Ran0",outcome="ok"} 1',
      'vlgw_operations_total{transport="http",operation_type="query",operation_name="Ran1",outcome="ok"} 1',
      'vlgw_operations_total{transport="http",operation_type="query",operation_name="(other)",outcome="ok"} 1',
      'vlgw_operations_total{transport="http",operation_type="query",operation_name="TaskManager",outcome="ok"} 1'
    ])
  })
})
