import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import type { RunningEmulator } from '../../src/emulator/index.js'
import { call, MINUTE, SECOND, START_MS, startTestEmulator } from './helpers.js'

let emulator: RunningEmulator
beforeAll(async () => { emulator = await startTestEmulator() })
afterAll(async () => { await emulator.close() })
beforeEach(() => { emulator.reset() })

const status = async (id: string) => {
  const body = (await call(emulator, `/api/v1/dataset/${id}`)).body as { status_new: string, progress: number }
  return [body.status_new, body.progress]
}

describe('dataset state derived from the emulator clock', () => {
  it('takes the seeded draft from DRAFT to INDEXING with rising progress to READY', async () => {
    expect(await status(SEED.datasets.draft)).toEqual(['DRAFT', 0])
    emulator.advance(59 * SECOND)
    expect(await status(SEED.datasets.draft)).toEqual(['DRAFT', 0])
    emulator.advance(1 * SECOND)
    expect(await status(SEED.datasets.draft)).toEqual(['INDEXING', 0])
    emulator.advance(15 * SECOND)
    expect(await status(SEED.datasets.draft)).toEqual(['INDEXING', 50])
    emulator.advance(14 * SECOND)
    expect(await status(SEED.datasets.draft)).toEqual(['INDEXING', 96])
    emulator.advance(1 * SECOND)
    expect(await status(SEED.datasets.draft)).toEqual(['READY', 100])
    const creation = (await call(emulator, `/api/v1/datasets/${SEED.datasets.draft}/creation-status`)).body
    expect(creation).toEqual({ status: 'READY', progress: 100 })
    const list = (await call(emulator, '/api/v1/datasets')).body as Array<Record<string, unknown>>
    expect(list.find((dataset) => dataset.id === SEED.datasets.draft)).toMatchObject({
      updated_at: '2026-03-02T12:01:30.000000',
      preview_uri: `https://assets.visual-layer.example/previews/${SEED.datasets.draft}/cover.jpg`
    })
  })

  it('finishes indexing the seeded INDEXING dataset 30 s after the start', async () => {
    const seen: unknown[] = []
    for (const step of [0, 10, 10, 9, 1]) {
      emulator.advance(step * SECOND)
      seen.push(await status(SEED.datasets.indexing))
    }
    expect(seen).toEqual([['INDEXING', 14], ['INDEXING', 42], ['INDEXING', 71], ['INDEXING', 97], ['READY', 100]])
    const tasks = (await call(emulator, `/api/v1/tasks?dataset_id=${SEED.datasets.indexing}`)).body as { tasks: unknown[] }
    expect(tasks.tasks[0]).toMatchObject({ status: 'COMPLETED', status_message: 'Dataset created', progress_percentage: 100, end_time: '2026-03-02T12:00:30Z' })
  })

  it('keeps the READ ONLY dataset locked until its media addition ends, then PARTIAL INDEX', async () => {
    emulator.advance(3 * 60 * MINUTE + 35 * MINUTE)
    expect(await status(SEED.datasets.readOnly)).toEqual(['READ ONLY', 100])
    const running = (await call(emulator, `/api/v1/tasks?dataset_id=${SEED.datasets.readOnly}&task_status=RUNNING`)).body as { tasks: unknown[] }
    expect(running.tasks).toEqual([expect.objectContaining({ task_type: 'MEDIA_ADDITION', progress_percentage: 99, dataset_status: 'READ_ONLY' })])
    emulator.advance(1 * MINUTE)
    expect(await status(SEED.datasets.readOnly)).toEqual(['PARTIAL INDEX', 100])
  })

  it('reset() brings back the seed and the start time', async () => {
    emulator.advance(5 * MINUTE)
    await call(emulator, `/api/v1/tasks/${SEED.tasks.draftCreation}/abort`, { method: 'POST' })
    expect(await status(SEED.datasets.indexing)).toEqual(['READY', 100])
    emulator.reset()
    expect(emulator.now()).toBe(START_MS)
    expect(await status(SEED.datasets.indexing)).toEqual(['INDEXING', 14])
    expect(await status(SEED.datasets.draft)).toEqual(['DRAFT', 0])
  })
})
