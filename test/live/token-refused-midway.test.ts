import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import type { Client } from 'graphql-ws'
import { SEED } from '../../src/emulator/index.js'
import type { TestGateway } from '../helpers/gateway.js'
import { connectionParams, startModeGateway } from '../helpers/modes.js'
import { record, wsClient } from '../helpers/ws.js'

/*
 * Passthrough: a token Visual Layer accepted for the poll but refuses for the event's nested fields
 * (revoked meanwhile). The event is one UNAUTHENTICATED error with no data, as an HTTP request
 * answers it (401), not one error per field the event could not read.
 */

let gw: TestGateway
const clients: Client[] = []
beforeAll(async () => { gw = await startModeGateway('passthrough', { POLL_INTERVAL_MS: '250' }) })
afterEach(async () => { await Promise.all(clients.splice(0).map(async (client) => { await client.dispose() })) })
afterAll(async () => { await gw.close() })

it('a token refused while an event resolves its nested fields gives one UNAUTHENTICATED error and no data', async () => {
  const id = SEED.datasets.ready
  gw.emulator.injectFault({ path: `/api/v1/enrichment/${id}/list_models`, status: 401, body: { detail: 'Token revoked' }, times: 10 })
  gw.emulator.injectFault({ path: `/api/v1/datasets/${id}/creation-status`, status: 401, body: { detail: 'Token revoked' }, times: 10 })
  const client = wsClient(gw.url, connectionParams('passthrough'))
  clients.push(client)
  const sub = record(client, `subscription { datasetStatusChanged(datasetId: "${id}", follow: true) { id creationStatus { __typename } models { id } } }`)
  await sub.received(1)
  expect(sub.events).toEqual([{
    data: null,
    errors: [{
      message: expect.stringMatching(/^Visual Layer refused your token/),
      extensions: { code: 'UNAUTHENTICATED', requestId: expect.any(String), upstream: { status: 401 } }
    }]
  }])
})
