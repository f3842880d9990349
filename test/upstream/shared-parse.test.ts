import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'

/*
 * Requests that share one upstream answer share its parse too (the client checks each answer's payload
 * once), and with it the mapped records: one upstream call, one parse, one mapping.
 */

let gw: TestGateway
beforeAll(async () => { gw = await startTestGateway() })
afterAll(async () => { await gw.close() })

describe('one parse per upstream answer', () => {
  it('gives identical reads in flight together the same parsed record, and a later read with the same values that same record', async () => {
    gw.emulator.clearCalls()
    const call = { credential: { kind: 'service' as const } }
    const [first, second] = await Promise.all([gw.app.visualLayer.getDataset(SEED.datasets.ready, call), gw.app.visualLayer.getDataset(SEED.datasets.ready, call)])
    expect(gw.emulator.calls({ path: '/api/v1/dataset/*' })).toHaveLength(1)
    expect(second).toBe(first)
    const later = await gw.app.visualLayer.getDataset(SEED.datasets.ready, call)
    expect(gw.emulator.calls({ path: '/api/v1/dataset/*' })).toHaveLength(2)
    // A later answer is parsed (or found remembered, src/upstream/checked.ts) on its own: the same values give the same record.
    expect(later).toBe(first)
  })
})
