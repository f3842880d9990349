import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import type { RunningEmulator } from '../../src/emulator/index.js'
import { call, SECONDARY, signToken, startTestEmulator } from './helpers.js'

let emulator: RunningEmulator
beforeAll(async () => { emulator = await startTestEmulator() })
afterAll(async () => { await emulator.close() })
beforeEach(() => { emulator.reset() })

interface TaskJson { task_id: string, dataset_name: string, status: string, task_type: string, created_by: string, start_time: string, dataset_id: string }
interface TaskPage { tasks: TaskJson[], total: number, page: number, page_size: number }

async function list (query: string, token?: string): Promise<TaskPage> {
  const answer = await call(emulator, `/api/v1/tasks${query}`, { token })
  expect(answer.status).toBe(200)
  return answer.body as TaskPage
}
const ids = (page: TaskPage) => page.tasks.map((task) => task.task_id)

describe('GET /api/v1/tasks', () => {
  it('returns the documented task fields, exactly', async () => {
    const page = await list(`?dataset_id=${SEED.datasets.ready}&task_type=ENRICHMENT`)
    expect(page).toEqual({
      tasks: [{
        task_id: SEED.tasks.readyEnrichmentFailed,
        dataset_id: 'b1a39406-123d-11f1-9353-fa39f6ed1f22',
        dataset_name: 'Product Images Q1',
        dataset_status: 'READY',
        created_by: 'dan.okafor@acme.example',
        task_type: 'ENRICHMENT',
        status: 'FAILED',
        status_message: 'Enrichment failed',
        progress_percentage: 45,
        error_message: 'Model timeout after 300s',
        start_time: '2026-01-23T05:30:00Z',
        end_time: '2026-01-23T05:35:27Z'
      }],
      total: 1,
      page: 1,
      page_size: 20
    })
  })

  it('pages 20 by default, newest first, across the primary account\'s 46 tasks', async () => {
    const first = await list('')
    expect([first.total, first.page, first.page_size, first.tasks.length]).toEqual([46, 1, 20, 20])
    expect(ids(first).slice(0, 5)).toEqual([
      SEED.tasks.indexingCreation, SEED.tasks.draftCreation, SEED.tasks.readySecondMetadataRunning,
      SEED.tasks.readOnlyMediaAdditionRunning, SEED.tasks.partialIndexSnapshotCloneFailed
    ])
    const third = await list('?page=3')
    expect([third.total, third.page, third.tasks.length]).toEqual([46, 3, 6])
    expect(ids(third).at(-1)).toBe(SEED.tasks.hiddenCreation)
    const beyond = await list('?page=4&page_size=20')
    expect(beyond).toEqual({ tasks: [], total: 46, page: 4, page_size: 20 })
    const all = await list('?page_size=50')
    const starts = all.tasks.map((task) => task.start_time)
    expect(starts).toEqual([...starts].sort().reverse())
    expect(new Set(ids(all)).size).toBe(46)
  })

  it('shows another account only its own 16 tasks', async () => {
    const page = await list('?page_size=50', signToken({ account: SECONDARY }))
    expect(page.total).toBe(16)
    expect(new Set(page.tasks.map((task) => task.created_by))).toEqual(new Set(['alex@globex.example', 'mira.jensen@globex.example']))
  })

  it('filters by task_status', async () => {
    expect(ids(await list('?task_status=FAILED'))).toEqual([
      SEED.tasks.partialIndexSnapshotCloneFailed, SEED.tasks.errorCreation, SEED.tasks.readOnlyMetadataFailed, SEED.tasks.readyReindexFailed,
      SEED.tasks.enrichedSourceEnrichmentFailed, SEED.tasks.readySecondSnapshotRestoreFailed, SEED.tasks.readySecondMediaAdditionFailed,
      SEED.tasks.readyMetadataFailed, SEED.tasks.readyEnrichmentFailed, SEED.tasks.hiddenMediaAdditionFailed
    ])
    expect(ids(await list('?task_status=RUNNING'))).toEqual([SEED.tasks.indexingCreation, SEED.tasks.readySecondMetadataRunning, SEED.tasks.readOnlyMediaAdditionRunning])
    expect(ids(await list('?task_status=INITIALIZING'))).toEqual([SEED.tasks.draftCreation])
    expect(ids(await list('?task_status=ABORTED'))).toEqual([SEED.tasks.abortedCreation])
    expect((await list('?task_status=COMPLETED')).total).toBe(31)
  })

  it('filters by task_type, dataset_name, dataset_id and created_by (any case)', async () => {
    // The enriched copy was created by an ENRICHMENT task, so 10 of the 11 datasets have a DATASET_CREATION.
    expect((await list('?task_type=DATASET_CREATION')).total).toBe(10)
    expect(ids(await list('?dataset_name=Warehouse%20Inspection&task_type=MEDIA_ADDITION'))).toEqual([SEED.tasks.readOnlyMediaAdditionRunning, SEED.tasks.readOnlyMediaAddition])
    expect((await list('?dataset_name=Warehouse')).total).toBe(0)
    expect((await list(`?dataset_id=${SEED.datasets.partialIndex}`)).total).toBe(6)
    expect((await list(`?dataset_id=${SEED.datasets.secondaryAccount}`)).total).toBe(0)
    const dan = await list('?created_by=DAN.OKAFOR@acme.example&page_size=50')
    expect(dan.total).toBe(19)
    expect(new Set(dan.tasks.map((task) => task.created_by))).toEqual(new Set(['dan.okafor@acme.example']))
  })

  it('filters by an inclusive start-time range', async () => {
    expect(ids(await list('?start_time_from=2026-03-01T00:00:00Z'))).toEqual([
      SEED.tasks.indexingCreation, SEED.tasks.draftCreation, SEED.tasks.readySecondMetadataRunning,
      SEED.tasks.readOnlyMediaAdditionRunning, SEED.tasks.partialIndexSnapshotCloneFailed
    ])
    expect(ids(await list('?start_time_from=2026-03-01T08:57:00Z&start_time_to=2026-03-02T11:35:00Z'))).toEqual([
      SEED.tasks.readOnlyMediaAdditionRunning, SEED.tasks.partialIndexSnapshotCloneFailed
    ])
    // A date means its midnight; a naive time is UTC; an offset is honoured.
    expect((await list('?start_time_from=2026-03-01')).total).toBe(5)
    expect((await list('?start_time_from=2026-03-02T13:36:00%2B02:00')).total).toBe(3)
    expect((await list('?start_time_to=2026-01-19T23:59:59')).total).toBe(4)
  })

  it('sorts by every documented field, ties by task_id ascending', async () => {
    const all = (await list('?page_size=50')).tasks
    const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
    const fields = ['status', 'task_type', 'dataset_name', 'dataset_id', 'created_by'] as const
    for (const field of fields) {
      for (const order of ['asc', 'desc'] as const) {
        const expected = [...all].sort((a, b) => (order === 'asc' ? 1 : -1) * compare(a[field], b[field]) || compare(a.task_id, b.task_id))
        expect(ids(await list(`?page_size=50&sort_by=${field}&sort_order=${order}`)), `${field} ${order}`).toEqual(expected.map((task) => task.task_id))
      }
    }
    const ascending = await list('?sort_by=start_time&sort_order=asc&page_size=5')
    expect(ids(ascending)[0]).toBe(SEED.tasks.hiddenCreation)
    expect((await list('?sort_by=status&sort_order=asc&page_size=5')).tasks[0]?.status).toBe('ABORTED')
  })

  it('answers 422 listing every invalid parameter', async () => {
    const answer = await call(emulator, '/api/v1/tasks?dataset_id=xyz&task_status=DONE&sort_by=size&sort_order=up&page=abc&page_size=51&start_time_to=2026-13-01')
    expect(answer.status).toBe(422)
    const uuidError = 'invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `x` at 1'
    expect(answer.body).toEqual({
      detail: [
        { type: 'uuid_parsing', loc: ['query', 'dataset_id'], msg: `Input should be a valid UUID, ${uuidError}`, input: 'xyz', ctx: { error: uuidError } },
        { type: 'enum', loc: ['query', 'task_status'], msg: "Input should be 'INITIALIZING', 'RUNNING', 'COMPLETED', 'FAILED' or 'ABORTED'", input: 'DONE', ctx: { expected: "'INITIALIZING', 'RUNNING', 'COMPLETED', 'FAILED' or 'ABORTED'" } },
        { type: 'datetime_from_date_parsing', loc: ['query', 'start_time_to'], msg: 'Input should be a valid datetime or date, month value is outside expected range of 1-12', input: '2026-13-01', ctx: { error: 'month value is outside expected range of 1-12' } },
        { type: 'enum', loc: ['query', 'sort_by'], msg: "Input should be 'start_time', 'status', 'task_type', 'dataset_name', 'dataset_id' or 'created_by'", input: 'size', ctx: { expected: "'start_time', 'status', 'task_type', 'dataset_name', 'dataset_id' or 'created_by'" } },
        { type: 'enum', loc: ['query', 'sort_order'], msg: "Input should be 'asc' or 'desc'", input: 'up', ctx: { expected: "'asc' or 'desc'" } },
        { type: 'int_parsing', loc: ['query', 'page'], msg: 'Input should be a valid integer, unable to parse string as an integer', input: 'abc' },
        { type: 'less_than_equal', loc: ['query', 'page_size'], msg: 'Input should be less than or equal to 50', input: '51', ctx: { le: 50 } }
      ]
    })
    const small = await call(emulator, '/api/v1/tasks?page_size=3&page=0')
    expect(small.body).toEqual({
      detail: [
        { type: 'greater_than_equal', loc: ['query', 'page'], msg: 'Input should be greater than or equal to 1', input: '0', ctx: { ge: 1 } },
        { type: 'greater_than_equal', loc: ['query', 'page_size'], msg: 'Input should be greater than or equal to 5', input: '3', ctx: { ge: 5 } }
      ]
    })
    expect((await call(emulator, '/api/v1/tasks?task_type=TRAINING')).status).toBe(422)
  })
})

describe('GET /api/v1/tasks/filters', () => {
  it('returns the sorted distinct values of the caller\'s tasks', async () => {
    const answer = await call(emulator, '/api/v1/tasks/filters')
    expect(answer.body).toEqual({
      dataset_names: [
        'Archived: Legacy Catalog 2023', 'Customer Uploads April', 'Drone Survey March', 'Holiday Campaign 2025', 'Medical Scans Batch 7', 'Product Images Q1',
        'Retail Shelf Photos', 'Retail Shelf Photos (enriched)', 'Street Scenes 2025', 'Training Set v2', 'Warehouse Inspection'
      ],
      dataset_ids: [
        SEED.datasets.readOnly, SEED.datasets.partialIndex, SEED.datasets.indexing, SEED.datasets.draft, SEED.datasets.error, SEED.datasets.aborted,
        SEED.datasets.hidden, SEED.datasets.ready, SEED.datasets.readySecond, SEED.datasets.enrichedSource, SEED.datasets.enriched
      ],
      task_types: ['CUSTOM_METADATA', 'DATASET_CREATION', 'ENRICHMENT', 'MEDIA_ADDITION', 'REINDEX', 'SNAPSHOT_CLONE', 'SNAPSHOT_RESTORE'],
      created_by: ['dan.okafor@acme.example', 'priya.shah@acme.example', 'rachel@acme.example']
    })
  })

  it('scopes the values to a time range and to the account', async () => {
    expect((await call(emulator, '/api/v1/tasks/filters?start_time_from=2026-03-01T00:00:00Z')).body).toEqual({
      dataset_names: ['Customer Uploads April', 'Drone Survey March', 'Street Scenes 2025', 'Training Set v2', 'Warehouse Inspection'],
      dataset_ids: [SEED.datasets.readOnly, SEED.datasets.partialIndex, SEED.datasets.indexing, SEED.datasets.draft, SEED.datasets.readySecond],
      task_types: ['CUSTOM_METADATA', 'DATASET_CREATION', 'MEDIA_ADDITION', 'SNAPSHOT_CLONE'],
      created_by: ['dan.okafor@acme.example', 'priya.shah@acme.example', 'rachel@acme.example']
    })
    expect((await call(emulator, '/api/v1/tasks/filters?start_time_to=2020-01-01')).body).toEqual({ dataset_names: [], dataset_ids: [], task_types: [], created_by: [] })
    expect((await call(emulator, '/api/v1/tasks/filters', { token: signToken({ account: SECONDARY }) })).body).toMatchObject({
      dataset_names: ['Assembly Line Cameras', 'Bin Picking Sim Renders', 'Robot Grasp Trials'],
      created_by: ['alex@globex.example', 'mira.jensen@globex.example']
    })
  })

  it('answers 422 for a bad datetime', async () => {
    const answer = await call(emulator, '/api/v1/tasks/filters?start_time_from=yesterday')
    expect(answer.body).toEqual({
      detail: [{ type: 'datetime_from_date_parsing', loc: ['query', 'start_time_from'], msg: 'Input should be a valid datetime or date, input is too short', input: 'yesterday', ctx: { error: 'input is too short' } }]
    })
  })
})
