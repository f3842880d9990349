import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import type { RunningEmulator } from '../../src/emulator/index.js'
import { call, SECOND, SECONDARY, signToken, startTestEmulator } from './helpers.js'

let emulator: RunningEmulator
beforeAll(async () => { emulator = await startTestEmulator() })
afterAll(async () => { await emulator.close() })
beforeEach(() => { emulator.reset() })

const abort = (taskId: string, token?: string) => call(emulator, `/api/v1/tasks/${taskId}/abort`, { method: 'POST', token })
const retry = (taskId: string, token?: string) => call(emulator, `/api/v1/tasks/${taskId}/retry`, { method: 'POST', token })
const dataset = async (id: string) => (await call(emulator, `/api/v1/dataset/${id}`)).body

describe('POST /api/v1/tasks/{task_id}/abort', () => {
  it('aborts an INITIALIZING creation: task ABORTED at 0 %, dataset ERROR', async () => {
    const answer = await abort(SEED.tasks.draftCreation)
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual({
      task_id: SEED.tasks.draftCreation,
      dataset_id: SEED.datasets.draft,
      dataset_name: 'Customer Uploads April',
      dataset_status: 'ERROR',
      created_by: 'priya.shah@acme.example',
      task_type: 'DATASET_CREATION',
      status: 'ABORTED',
      status_message: 'Aborted by user',
      progress_percentage: 0,
      error_message: null,
      start_time: '2026-03-02T11:59:30Z',
      end_time: '2026-03-02T12:00:00Z'
    })
    expect(await dataset(SEED.datasets.draft)).toMatchObject({ status_new: 'ERROR', progress: 0, fatal_error_msg: 'Dataset creation was aborted' })
    // Time no longer moves an aborted task.
    emulator.advance(10 * 60 * SECOND)
    expect(await dataset(SEED.datasets.draft)).toMatchObject({ status_new: 'ERROR' })
  })

  it('aborts a RUNNING creation with its progress frozen', async () => {
    const answer = await abort(SEED.tasks.indexingCreation)
    expect(answer.body).toMatchObject({ status: 'ABORTED', progress_percentage: 14, end_time: '2026-03-02T12:00:00Z', dataset_status: 'ERROR' })
    emulator.advance(60 * SECOND)
    expect(await dataset(SEED.datasets.indexing)).toMatchObject({ status_new: 'ERROR', progress: 14, fatal_error_msg: 'Dataset creation was aborted' })
  })

  it('answers 409 in the final commit phase', async () => {
    emulator.advance(29 * SECOND)
    const answer = await abort(SEED.tasks.indexingCreation)
    expect(answer).toMatchObject({ status: 409, body: { detail: 'Task is in its final commit phase (progress 97%) and can no longer be aborted' } })
  })

  it('answers 409 for a finished creation, whatever its outcome', async () => {
    expect(await abort(SEED.tasks.readyCreation)).toMatchObject({ status: 409, body: { detail: 'Task is already COMPLETED and cannot be aborted' } })
    expect(await abort(SEED.tasks.errorCreation)).toMatchObject({ status: 409, body: { detail: 'Task is already FAILED and cannot be aborted' } })
    expect(await abort(SEED.tasks.abortedCreation)).toMatchObject({ status: 409, body: { detail: 'Task is already ABORTED and cannot be aborted' } })
  })

  it('answers 409 for a task that is not a DATASET_CREATION, even running', async () => {
    expect(await abort(SEED.tasks.readOnlyMediaAdditionRunning)).toMatchObject({ status: 409, body: { detail: 'Only DATASET_CREATION tasks can be aborted; this task is MEDIA_ADDITION' } })
  })

  it('answers 404 for an unknown or foreign task, 422 for a malformed id', async () => {
    expect(await abort('00000000-0000-4000-8000-000000000000')).toMatchObject({ status: 404, body: { detail: 'Task not found' } })
    expect(await abort(SEED.tasks.draftCreation, signToken({ account: SECONDARY }))).toMatchObject({ status: 404, body: { detail: 'Task not found' } })
    const malformed = await abort('42')
    expect(malformed.status).toBe(422)
    expect((malformed.body as { detail: Array<{ loc: string[] }> }).detail[0]?.loc).toEqual(['path', 'task_id'])
  })
})

describe('POST /api/v1/tasks/{task_id}/retry', () => {
  it('restarts a FAILED creation, which then runs to COMPLETED and its dataset to READY', async () => {
    const answer = await retry(SEED.tasks.errorCreation)
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual({
      task_id: SEED.tasks.errorCreation,
      dataset_id: SEED.datasets.error,
      dataset_name: 'Medical Scans Batch 7',
      dataset_status: 'DRAFT',
      created_by: 'rachel@acme.example',
      task_type: 'DATASET_CREATION',
      status: 'INITIALIZING',
      status_message: 'Preparing dataset creation',
      progress_percentage: 0,
      error_message: null,
      start_time: '2026-03-02T12:00:00Z',
      end_time: null
    })
    expect(await dataset(SEED.datasets.error)).toMatchObject({ status_new: 'DRAFT', fatal_error_msg: null })
    emulator.advance(5 * SECOND + 5 * SECOND)
    expect(await dataset(SEED.datasets.error)).toMatchObject({ status_new: 'INDEXING', progress: 20 })
    emulator.advance(20 * SECOND)
    expect(await dataset(SEED.datasets.error)).toMatchObject({ status_new: 'READY', progress: 100, fatal_error_msg: null })
    const tasks = await call(emulator, `/api/v1/tasks?dataset_id=${SEED.datasets.error}`)
    expect((tasks.body as { tasks: unknown[] }).tasks).toEqual([expect.objectContaining({ status: 'COMPLETED', end_time: '2026-03-02T12:00:30Z', dataset_status: 'READY' })])
  })

  it('restarts an ABORTED creation, including one this test aborted', async () => {
    expect(await retry(SEED.tasks.abortedCreation)).toMatchObject({ status: 200, body: { status: 'INITIALIZING' } })
    expect((await abort(SEED.tasks.indexingCreation)).status).toBe(200)
    expect(await retry(SEED.tasks.indexingCreation)).toMatchObject({ status: 200, body: { status: 'INITIALIZING', dataset_status: 'DRAFT' } })
    expect(await retry(SEED.tasks.indexingCreation)).toMatchObject({ status: 400, body: { detail: 'Only FAILED or ABORTED tasks can be retried; this task is INITIALIZING' } })
  })

  it('answers 400 for a creation that is running or completed', async () => {
    expect(await retry(SEED.tasks.indexingCreation)).toMatchObject({ status: 400, body: { detail: 'Only FAILED or ABORTED tasks can be retried; this task is RUNNING' } })
    expect(await retry(SEED.tasks.readyCreation)).toMatchObject({ status: 400, body: { detail: 'Only FAILED or ABORTED tasks can be retried; this task is COMPLETED' } })
  })

  it('answers 400 for a failed task that is not a DATASET_CREATION', async () => {
    expect(await retry(SEED.tasks.readyEnrichmentFailed)).toMatchObject({ status: 400, body: { detail: 'Only DATASET_CREATION tasks can be retried; this task is ENRICHMENT' } })
  })

  it('answers 404 for another account\'s task, which its owner can retry', async () => {
    expect(await retry(SEED.tasks.secondaryErrorCreation)).toMatchObject({ status: 404, body: { detail: 'Task not found' } })
    expect(await retry(SEED.tasks.secondaryErrorCreation, signToken({ account: SECONDARY }))).toMatchObject({ status: 200, body: { created_by: 'alex@globex.example', status: 'INITIALIZING' } })
  })
})
