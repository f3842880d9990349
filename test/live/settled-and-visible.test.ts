import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Client } from 'graphql-ws'
import { SEED } from '../../src/emulator/index.js'
import type { TestGateway } from '../helpers/gateway.js'
import { AUTH_MODES, connectionParams, startModeGateway } from '../helpers/modes.js'
import { ManualTime } from '../helpers/manual-time.js'
import { allPollersStopped, nextRound, pollNow } from '../helpers/polls.js'
import { record, wsClient } from '../helpers/ws.js'

/*
 * Where datasetStatusChanged ends, and what taskUpdated sends again, on the emulator's Warehouse
 * Inspection dataset: READ ONLY while a media addition runs, PARTIAL INDEX once it ends (3 h 36 min
 * after the emulator's start), when every row of its task list reports the new dataset status.
 * Every auth mode, tokens that expire; the pollers' time is the test's.
 */

const id = SEED.datasets.readOnly
const FOUR_HOURS = 4 * 3600_000

describe.each(AUTH_MODES)('settled statuses and visible task fields (AUTH_MODE=%s)', (mode) => {
  let gw: TestGateway
  const time = new ManualTime()
  const clients: Client[] = []
  const connect = (): Client => {
    const client = wsClient(gw.url, connectionParams(mode, { ttlSec: 300 }))
    clients.push(client)
    return client
  }
  beforeAll(async () => { gw = await startModeGateway(mode, { POLL_INTERVAL_MS: '1000' }, { liveTime: time }) })
  afterEach(async () => {
    await Promise.all(clients.splice(0).map(async (client) => { await client.dispose() }))
    await allPollersStopped(gw)
  })
  afterAll(async () => { await gw.close() })

  it('datasetStatusChanged without follow completes at PARTIAL_INDEX, where Visual Layer\'s own polling loop stops', async () => {
    gw.emulator.reset()
    const sub = record<{ datasetStatusChanged: { status: string } }>(connect(), `subscription { datasetStatusChanged(datasetId: "${id}") { status } }`)
    await sub.received(1)
    gw.emulator.advance(FOUR_HOURS)
    await pollNow(gw, time, id)
    await sub.done
    expect(sub.events).toEqual([
      { data: { datasetStatusChanged: { status: 'READ_ONLY' } } },
      { data: { datasetStatusChanged: { status: 'PARTIAL_INDEX' } } }
    ])
  })

  it('datasetStatusChanged completes at once on a PARTIAL_INDEX dataset, and follows it with follow: true', async () => {
    gw.emulator.reset()
    const once = record<{ datasetStatusChanged: { status: string } }>(connect(), `subscription { datasetStatusChanged(datasetId: "${SEED.datasets.partialIndex}") { status } }`)
    await once.done
    expect(once.events).toEqual([{ data: { datasetStatusChanged: { status: 'PARTIAL_INDEX' } } }])
    const followed = record<{ datasetStatusChanged: { status: string } }>(connect(), `subscription { datasetStatusChanged(datasetId: "${SEED.datasets.partialIndex}", follow: true) { status } }`)
    await followed.received(1)
    expect(await pollNow(gw, time, SEED.datasets.partialIndex)).toMatchObject({ outcome: 'unchanged' })
    let completed = false
    void followed.done.then(() => { completed = true })
    await record(connect(), '{ __typename }').done
    expect(completed).toBe(false)
    followed.stop()
  })

  it('taskUpdated sends, at a dataset status flip, only the task whose selected fields changed', async () => {
    gw.emulator.reset()
    const firstLook = nextRound(gw, id)
    const narrow = record<{ taskUpdated: Record<string, unknown> }>(connect(), `subscription { taskUpdated(datasetId: "${id}") { id status } }`)
    const wide = record<{ taskUpdated: Record<string, unknown> }>(connect(), `subscription { taskUpdated(datasetId: "${id}") { id ...Where } } fragment Where on Task { datasetStatus }`)
    await firstLook
    gw.emulator.advance(FOUR_HOURS)
    expect(await pollNow(gw, time, id)).toMatchObject({ outcome: 'changed' })
    // Only the media addition that ended changed what { id status } shows.
    await narrow.received(1)
    // Every row now reports PARTIAL_INDEX: each is news to a subscriber that selects datasetStatus (through a fragment).
    await wide.received(6)
    await record(connect(), '{ __typename }').done
    expect(narrow.events).toEqual([{ data: { taskUpdated: { id: SEED.tasks.readOnlyMediaAdditionRunning, status: 'COMPLETED' } } }])
    expect(wide.events.map((event) => event.data?.taskUpdated)).toEqual([
      SEED.tasks.readOnlyCreation, SEED.tasks.readOnlyMediaAddition, SEED.tasks.readOnlyReindex,
      SEED.tasks.readOnlyMetadataFailed, SEED.tasks.readOnlyMetadata, SEED.tasks.readOnlyMediaAdditionRunning
    ].map((task) => ({ id: task, datasetStatus: 'PARTIAL_INDEX' })))
    // A poll that sees nothing new sends nothing to either.
    expect(await pollNow(gw, time, id)).toMatchObject({ outcome: 'unchanged' })
    await record(connect(), '{ __typename }').done
    expect(narrow.events).toHaveLength(1)
    expect(wide.events).toHaveLength(6)
  })
})
