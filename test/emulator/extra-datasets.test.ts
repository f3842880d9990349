import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { extraDatasetId, SEED, startEmulator, type RunningEmulator } from '../../src/emulator/index.js'
import { SECONDARY, signToken, START } from './helpers.js'

/** The bench's distinct-ids case (issue 27): `extraDatasets` READY datasets of the primary account, stable ids, kept across reset(). */
describe('emulator extraDatasets', () => {
  let emulator: RunningEmulator
  const get = async (path: string, token = signToken()): Promise<{ status: number, body: Record<string, unknown> }> => {
    const res = await fetch(`${emulator.url}${path}`, { headers: { authorization: `Bearer ${token}` } })
    return { status: res.status, body: await res.json() as Record<string, unknown> }
  }
  beforeAll(async () => { emulator = await startEmulator({ clock: START, extraDatasets: 3 }) })
  afterAll(async () => { await emulator.close() })

  it('serves each extra dataset as a READY copy of the ready one with its own id and name, to its account only', async () => {
    const ready = await get(`/api/v1/dataset/${SEED.datasets.ready}`)
    expect(extraDatasetId(2)).toBe(extraDatasetId(2))
    expect(new Set([0, 1, 2].map(extraDatasetId)).size).toBe(3)
    emulator.reset()
    const extra = await get(`/api/v1/dataset/${extraDatasetId(2)}`)
    expect(extra).toEqual({ status: 200, body: { ...ready.body, id: extraDatasetId(2), display_name: 'Extra dataset 2' } })
    expect((await get(`/api/v1/dataset/${extraDatasetId(3)}`)).status).toBe(404)
    expect((await get(`/api/v1/dataset/${extraDatasetId(0)}`, signToken({ account: SECONDARY }))).status).toBe(404)
  })
})
