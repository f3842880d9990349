import { afterAll, beforeAll, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { nextCall, nextEvent, onChannel, when } from '../helpers/wait.js'

let gw: TestGateway
beforeAll(async () => { gw = await startTestGateway({ UPSTREAM_TIMEOUT_MS: '5000' }) })
afterAll(async () => { await gw.close() })

it('aborts the upstream call when the caller goes away', async () => {
  gw.emulator.injectFault({ path: `/api/v1/dataset/${SEED.datasets.ready}`, hold: 'gone' })
  const controller = new AbortController()
  const arrived = nextCall(gw.emulator, { path: `/api/v1/dataset/${SEED.datasets.ready}`, phase: 'arrived' })
  const pending = fetch(`${gw.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': 'req-gone' },
    body: JSON.stringify({ query: `{ dataset(id: "${SEED.datasets.ready}") { id } }` }),
    signal: controller.signal
  })
  // The call reached Visual Layer, which holds it: the caller leaves.
  await arrived
  controller.abort()
  await expect(pending).rejects.toThrow()
  // The gateway closed the upstream call: Visual Layer sees its client leave (the emulator drops a held call then).
  await when('the held call to be dropped', (listener) => gw.emulator.onHold(listener), () => gw.emulator.held('gone') === 0)
  // A witness held too, answered after that: had the gateway kept the first call, it would have read its answer first.
  gw.emulator.injectFault({ path: `/api/v1/dataset/${SEED.datasets.readOnly}`, hold: 'witness' })
  const witnessArrived = nextCall(gw.emulator, { path: `/api/v1/dataset/${SEED.datasets.readOnly}`, phase: 'arrived' })
  const witness = gw.gql(`{ dataset(id: "${SEED.datasets.readOnly}") { id } }`, undefined, { 'x-request-id': 'req-witness' })
  await witnessArrived
  expect(gw.emulator.release('witness')).toBe(1)
  await witness
  expect(gw.logs.entries().some((e) => e.requestId === 'req-witness' && e.msg === 'upstream call')).toBe(true)
  // The call reached Visual Layer, and the gateway dropped it when its only caller left: it never
  // read an answer.
  expect(gw.emulator.calls().filter((c) => c.requestId !== 'req-witness').map((c) => c.requestId)).toEqual(['req-gone'])
  const upstream = gw.logs.entries().filter((e) => e.requestId === 'req-gone' && e.component === 'upstream')
  expect(upstream).toEqual([])
})

it('keeps a shared call going while another caller still waits for it', async () => {
  gw.emulator.reset()
  gw.emulator.injectFault({ path: `/api/v1/dataset/${SEED.datasets.ready}`, hold: 'shared' })
  const query = JSON.stringify({ query: `{ dataset(id: "${SEED.datasets.ready}") { id } }` })
  // Another selection of the same dataset: its own execution (identical queries would share one), the same upstream read.
  const other = JSON.stringify({ query: `{ dataset(id: "${SEED.datasets.ready}") { __typename id } }` })
  const leaving = new AbortController()
  const arrived = nextCall(gw.emulator, { path: `/api/v1/dataset/${SEED.datasets.ready}`, phase: 'arrived' })
  const gone = fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: query, signal: leaving.signal })
  await arrived
  const joined = nextEvent<{ path: string }>('the second read to join the first', onChannel('visual-layer:upstream:shared-read'), (m) => m.path === `/api/v1/dataset/${SEED.datasets.ready}`)
  const staying = fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'req-staying' }, body: other })
  await joined
  leaving.abort()
  await expect(gone).rejects.toThrow()
  expect(gw.emulator.release('shared')).toBe(1)
  const res = await staying
  expect(await res.json()).toEqual({ data: { dataset: { __typename: 'Dataset', id: SEED.datasets.ready } } })
  expect(gw.emulator.calls().length).toBe(1)
})

it('logs a caller who went away mid-request as one info line, with no error and no stack', async () => {
  gw.emulator.reset()
  gw.emulator.injectFault({ path: `/api/v1/dataset/${SEED.datasets.ready}`, hold: 'left' })
  const controller = new AbortController()
  const pending = fetch(`${gw.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': 'req-left' },
    body: JSON.stringify({ query: `{ dataset(id: "${SEED.datasets.ready}") { id } other: dataset(id: "${SEED.datasets.indexing}") { id } }` }),
    signal: controller.signal
  })
  // One answer came back and the other is held by Visual Layer: the operation is running.
  await gw.logs.logged('req-left upstream call', (e) => e.requestId === 'req-left' && e.msg === 'upstream call')
  controller.abort()
  await expect(pending).rejects.toThrow()
  const line = 'the caller went away before the answer; its upstream calls were stopped'
  await gw.logs.logged(line, (e) => e.requestId === 'req-left' && e.msg === line)
  const entries = gw.logs.entries().filter((e) => e.requestId === 'req-left')
  expect(entries.map((e) => [e.level, e.msg])).toEqual([
    [30, 'incoming request'],
    [20, 'upstream call'],
    [30, line]
  ])
  expect(entries.at(-1)).toMatchObject({ errors: 1 })
})
