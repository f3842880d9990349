import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { START_TIME_DESC, type TaskKey } from '../helpers/seed-order.js'

/**
 * Query.tasks, Query.taskFilterOptions and Dataset.tasks against the emulator's seed at its frozen
 * start (2026-03-02T12:00:00Z). Every expected value below follows from `src/emulator/seed.ts` and
 * the rules of `src/emulator/README.md`: a task starts `ago` before the start, is INITIALIZING for
 * `initMs`, RUNNING with floor(100 * elapsed / runMs) % for `runMs`, then COMPLETED (100) or FAILED at
 * its failure's progress after round(runMs * atProgress / 100); task times are written to the second
 * with a Z; CUSTOM_METADATA and SNAPSHOT_CLONE report no progress; ties sort by task id ascending.
 * The service account is Acme's: 46 tasks over its 11 datasets (the hidden one included).
 */

let gw: TestGateway
beforeAll(async () => { gw = await startTestGateway({ UPSTREAM_TIMEOUT_MS: '2000' }) })
afterAll(async () => { await gw.close() })
beforeEach(() => { gw.emulator.reset() })

const ids = (keys: readonly TaskKey[]): string[] => keys.map((key) => SEED.tasks[key])

/** What the emulator received, one entry per call: method, path, query parameters and status. */
const upstreamCalls = (): Array<{ method: string, path: string, query: Record<string, string>, status: number }> =>
  gw.emulator.calls().map(({ method, path, query, status }) => ({ method, path, query, status }))

const taskListCall = (query: Record<string, string>): { method: string, path: string, query: Record<string, string>, status: number } =>
  ({ method: 'GET', path: '/api/v1/tasks', query, status: 200 })

const TASK_FIELDS = 'id type status statusMessage progress errorMessage createdBy startTime endTime datasetId datasetName datasetStatus canAbort canRetry'

describe('Query.tasks: the default order and every Task field', () => {
  it('answers the first page of 5, newest start first, with every field mapped', async () => {
    const res = await gw.gql(`{ tasks(pageSize: 5) { total page pageSize hasNextPage nodes { ${TASK_FIELDS} } } }`)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      data: {
        tasks: {
          total: 46,
          page: 1,
          pageSize: 5,
          hasNextPage: true,
          nodes: [
            {
              // Starts 10 s before the clock, 5 s initialising, then 5 s into a 35 s run: floor(500 / 35) = 14 %.
              id: SEED.tasks.indexingCreation,
              type: 'DATASET_CREATION',
              status: 'RUNNING',
              statusMessage: 'Indexing media',
              progress: 14,
              errorMessage: null,
              createdBy: 'rachel@acme.example',
              startTime: '2026-03-02T11:59:50Z',
              endTime: null,
              datasetId: SEED.datasets.indexing,
              datasetName: 'Drone Survey March',
              datasetStatus: 'INDEXING',
              canAbort: true,
              canRetry: false
            },
            {
              // 30 s into a 90 s initialisation.
              id: SEED.tasks.draftCreation,
              type: 'DATASET_CREATION',
              status: 'INITIALIZING',
              statusMessage: 'Preparing dataset creation',
              progress: 0,
              errorMessage: null,
              createdBy: 'priya.shah@acme.example',
              startTime: '2026-03-02T11:59:30Z',
              endTime: null,
              datasetId: SEED.datasets.draft,
              datasetName: 'Customer Uploads April',
              datasetStatus: 'DRAFT',
              canAbort: true,
              canRetry: false
            },
            {
              // A CUSTOM_METADATA import reports no progress, and does not lock its dataset.
              id: SEED.tasks.readySecondMetadataRunning,
              type: 'CUSTOM_METADATA',
              status: 'RUNNING',
              statusMessage: 'Importing custom metadata',
              progress: null,
              errorMessage: null,
              createdBy: 'priya.shah@acme.example',
              startTime: '2026-03-02T11:52:00Z',
              endTime: null,
              datasetId: SEED.datasets.readySecond,
              datasetName: 'Training Set v2',
              datasetStatus: 'READY',
              canAbort: false,
              canRetry: false
            },
            {
              // 25 min ago, 1 min initialising, 24 min into a 4 h run: 10 %; the dataset is READ ONLY meanwhile.
              id: SEED.tasks.readOnlyMediaAdditionRunning,
              type: 'MEDIA_ADDITION',
              status: 'RUNNING',
              statusMessage: 'Adding media',
              progress: 10,
              errorMessage: null,
              createdBy: 'dan.okafor@acme.example',
              startTime: '2026-03-02T11:35:00Z',
              endTime: null,
              datasetId: SEED.datasets.readOnly,
              datasetName: 'Warehouse Inspection',
              datasetStatus: 'READ_ONLY',
              canAbort: false,
              canRetry: false
            },
            {
              // 1 d 3 h 3 min ago; fails at 0 % as soon as it runs (after 10 s); no progress for a clone.
              id: SEED.tasks.partialIndexSnapshotCloneFailed,
              type: 'SNAPSHOT_CLONE',
              status: 'FAILED',
              statusMessage: 'Snapshot clone failed',
              progress: null,
              errorMessage: 'Dataset quota reached (50 datasets); delete unused datasets and retry',
              createdBy: 'dan.okafor@acme.example',
              startTime: '2026-03-01T08:57:00Z',
              endTime: '2026-03-01T08:57:10Z',
              datasetId: SEED.datasets.partialIndex,
              datasetName: 'Street Scenes 2025',
              datasetStatus: 'PARTIAL_INDEX',
              canAbort: false,
              canRetry: false
            }
          ]
        }
      }
    })
    expect(upstreamCalls()).toEqual([taskListCall({ sort_by: 'start_time', sort_order: 'desc', page: '1', page_size: '5' })])
  })

  it('answers a middle page with finished tasks of every kind', async () => {
    const res = await gw.gql(`{ tasks(page: 5, pageSize: 5) { total page pageSize hasNextPage nodes { ${TASK_FIELDS} } } }`)
    expect(res.body).toEqual({
      data: {
        tasks: {
          total: 46,
          page: 5,
          pageSize: 5,
          hasNextPage: true,
          nodes: [
            {
              id: SEED.tasks.readOnlyCreation,
              type: 'DATASET_CREATION',
              status: 'COMPLETED',
              statusMessage: 'Dataset created',
              progress: 100,
              errorMessage: null,
              createdBy: 'rachel@acme.example',
              startTime: '2026-02-16T05:57:09Z',
              endTime: '2026-02-16T06:42:39Z',
              datasetId: SEED.datasets.readOnly,
              datasetName: 'Warehouse Inspection',
              datasetStatus: 'READ_ONLY',
              canAbort: false,
              canRetry: false
            },
            {
              id: SEED.tasks.readySecondMetadata,
              type: 'CUSTOM_METADATA',
              status: 'COMPLETED',
              statusMessage: 'Custom metadata imported',
              progress: null,
              errorMessage: null,
              createdBy: 'dan.okafor@acme.example',
              startTime: '2026-02-15T10:35:00Z',
              endTime: '2026-02-15T10:39:10Z',
              datasetId: SEED.datasets.readySecond,
              datasetName: 'Training Set v2',
              datasetStatus: 'READY',
              canAbort: false,
              canRetry: false
            },
            {
              // 10 s initialising, then fails at 3 % of a 5 min run: round(300 s * 0.03) = 9 s.
              id: SEED.tasks.readySecondSnapshotRestoreFailed,
              type: 'SNAPSHOT_RESTORE',
              status: 'FAILED',
              statusMessage: 'Snapshot restore failed',
              progress: 3,
              errorMessage: "Snapshot 'pre-relabel' was taken on an older index version and cannot be restored",
              createdBy: 'priya.shah@acme.example',
              startTime: '2026-02-14T07:16:00Z',
              endTime: '2026-02-14T07:16:19Z',
              datasetId: SEED.datasets.readySecond,
              datasetName: 'Training Set v2',
              datasetStatus: 'READY',
              canAbort: false,
              canRetry: false
            },
            {
              id: SEED.tasks.readySnapshotClone,
              type: 'SNAPSHOT_CLONE',
              status: 'COMPLETED',
              statusMessage: 'Snapshot cloned',
              progress: null,
              errorMessage: null,
              createdBy: 'priya.shah@acme.example',
              startTime: '2026-02-11T06:09:00Z',
              endTime: '2026-02-11T06:17:10Z',
              datasetId: SEED.datasets.ready,
              datasetName: 'Product Images Q1',
              datasetStatus: 'READY',
              canAbort: false,
              canRetry: false
            },
            {
              id: SEED.tasks.partialIndexReindex,
              type: 'REINDEX',
              status: 'COMPLETED',
              statusMessage: 'Reindex completed',
              progress: 100,
              errorMessage: null,
              createdBy: 'dan.okafor@acme.example',
              startTime: '2026-02-10T03:58:00Z',
              endTime: '2026-02-10T04:56:20Z',
              datasetId: SEED.datasets.partialIndex,
              datasetName: 'Street Scenes 2025',
              datasetStatus: 'PARTIAL_INDEX',
              canAbort: false,
              canRetry: false
            }
          ]
        }
      }
    })
    expect(upstreamCalls()).toEqual([taskListCall({ sort_by: 'start_time', sort_order: 'desc', page: '5', page_size: '5' })])
  })

  it('answers the last page (one task of 46) without a next page', async () => {
    const res = await gw.gql(`{ tasks(page: 10, pageSize: 5) { total page pageSize hasNextPage nodes { ${TASK_FIELDS} } } }`)
    expect(res.body).toEqual({
      data: {
        tasks: {
          total: 46,
          page: 10,
          pageSize: 5,
          hasNextPage: false,
          nodes: [{
            // 45 d 4 h 0 min 12 s ago; 30 s initialising and a 95 min run.
            id: SEED.tasks.hiddenCreation,
            type: 'DATASET_CREATION',
            status: 'COMPLETED',
            statusMessage: 'Dataset created',
            progress: 100,
            errorMessage: null,
            createdBy: 'rachel@acme.example',
            startTime: '2026-01-16T07:59:48Z',
            endTime: '2026-01-16T09:35:18Z',
            datasetId: SEED.datasets.hidden,
            datasetName: 'Archived: Legacy Catalog 2023',
            datasetStatus: 'READY',
            canAbort: false,
            canRetry: false
          }]
        }
      }
    })
  })

  it('answers a page past the end with no nodes, the total and no next page', async () => {
    const res = await gw.gql('{ tasks(page: 11, pageSize: 5) { total page pageSize hasNextPage nodes { id } } }')
    expect(res.body).toEqual({ data: { tasks: { total: 46, page: 11, pageSize: 5, hasNextPage: false, nodes: [] } } })
    expect(upstreamCalls()).toEqual([taskListCall({ sort_by: 'start_time', sort_order: 'desc', page: '11', page_size: '5' })])
  })

  it('pages by 20 by default and by 50 at most, with hasNextPage following the total', async () => {
    const byDefault = await gw.gql('{ tasks { total page pageSize hasNextPage nodes { id } } }')
    expect(byDefault.body).toEqual({ data: { tasks: { total: 46, page: 1, pageSize: 20, hasNextPage: true, nodes: ids(START_TIME_DESC.slice(0, 20)).map((id) => ({ id })) } } })
    const third = await gw.gql('{ tasks(page: 3) { total page pageSize hasNextPage nodes { id } } }')
    expect(third.body).toEqual({ data: { tasks: { total: 46, page: 3, pageSize: 20, hasNextPage: false, nodes: ids(START_TIME_DESC.slice(40)).map((id) => ({ id })) } } })
    const all = await gw.gql('{ tasks(pageSize: 50) { total page pageSize hasNextPage nodes { id } } }')
    expect(all.body).toEqual({ data: { tasks: { total: 46, page: 1, pageSize: 50, hasNextPage: false, nodes: ids(START_TIME_DESC).map((id) => ({ id })) } } })
    expect(upstreamCalls()).toEqual([
      taskListCall({ sort_by: 'start_time', sort_order: 'desc', page: '1', page_size: '20' }),
      taskListCall({ sort_by: 'start_time', sort_order: 'desc', page: '3', page_size: '20' }),
      taskListCall({ sort_by: 'start_time', sort_order: 'desc', page: '1', page_size: '50' })
    ])
  })

  it('keeps a task\'s state moving with the clock: the indexing creation completes, the draft starts running', async () => {
    gw.emulator.advance(75_000)
    const res = await gw.gql('{ tasks(pageSize: 5) { nodes { id status progress endTime datasetStatus canAbort canRetry } } }')
    expect((res.body.data as { tasks: { nodes: unknown[] } }).tasks.nodes.slice(0, 2)).toEqual([
      // Ran 5 s + 35 s from 11:59:50: completed at 12:00:30.
      { id: SEED.tasks.indexingCreation, status: 'COMPLETED', progress: 100, endTime: '2026-03-02T12:00:30Z', datasetStatus: 'READY', canAbort: false, canRetry: false },
      // 90 s initialising from 11:59:30, then 15 s into a 30 s run at 12:01:15: 50 %.
      { id: SEED.tasks.draftCreation, status: 'RUNNING', progress: 50, endTime: null, datasetStatus: 'INDEXING', canAbort: true, canRetry: false }
    ])
  })
})

describe('Query.tasks filters', () => {
  const nodeIds = (body: unknown): string[] => (body as { data: { tasks: { nodes: Array<{ id: string }> } } }).data.tasks.nodes.map((node) => node.id)

  it.each<[string, string, Record<string, string>, number, readonly TaskKey[]]>([
    ['datasetId', `{ datasetId: "${SEED.datasets.ready}" }`, { dataset_id: SEED.datasets.ready }, 11, [
      'readyReindexLate', 'readyReindexFailed', 'readyMediaAdditionLate', 'readySnapshotClone', 'readySnapshotRestore', 'readyReindex',
      'readyMediaAddition', 'readyMetadataFailed', 'readyEnrichmentFailed', 'readyMetadata', 'readyCreation'
    ]],
    ['datasetId in upper case (sent lower case)', `{ datasetId: "${SEED.datasets.enriched.toUpperCase()}" }`, { dataset_id: SEED.datasets.enriched }, 2, [
      'enrichedSnapshotClone', 'enrichedMetadata'
    ]],
    ['datasetName', '{ datasetName: "Training Set v2" }', { dataset_name: 'Training Set v2' }, 8, [
      'readySecondMetadataRunning', 'readySecondSnapshotClone', 'readySecondMetadata', 'readySecondSnapshotRestoreFailed', 'readySecondReindex',
      'readySecondMediaAddition', 'readySecondMediaAdditionFailed', 'readySecondCreation'
    ]],
    ['type', '{ type: ENRICHMENT }', { task_type: 'ENRICHMENT' }, 3, ['enrichedSourceEnrichmentFailed', 'enrichedSourceEnrichment', 'readyEnrichmentFailed']],
    ['status FAILED', '{ status: FAILED }', { task_status: 'FAILED' }, 10, [
      'partialIndexSnapshotCloneFailed', 'errorCreation', 'readOnlyMetadataFailed', 'readyReindexFailed', 'enrichedSourceEnrichmentFailed',
      'readySecondSnapshotRestoreFailed', 'readySecondMediaAdditionFailed', 'readyMetadataFailed', 'readyEnrichmentFailed', 'hiddenMediaAdditionFailed'
    ]],
    ['status ABORTED', '{ status: ABORTED }', { task_status: 'ABORTED' }, 1, ['abortedCreation']],
    ['createdBy', '{ createdBy: "priya.shah@acme.example" }', { created_by: 'priya.shah@acme.example' }, 11, [
      'draftCreation', 'readySecondMetadataRunning', 'partialIndexMediaAdditionLate', 'enrichedSourceSnapshotRestore', 'readySecondSnapshotRestoreFailed',
      'readySnapshotClone', 'enrichedMetadata', 'enrichedSourceEnrichment', 'enrichedSourceMetadata', 'enrichedSourceCreation', 'readyMetadataFailed'
    ]],
    ['startTimeFrom and startTimeTo, inclusive at both ends (the first and last tasks start exactly there)',
      '{ startTimeFrom: "2026-02-21T04:46:00Z", startTimeTo: "2026-02-24T07:40:00Z" }',
      { start_time_from: '2026-02-21T04:46:00Z', start_time_to: '2026-02-24T07:40:00Z' }, 6, [
        'enrichedSourceSnapshotRestore', 'readOnlyMetadata', 'readOnlyMetadataFailed', 'readyReindexLate', 'readyReindexFailed', 'readyMediaAdditionLate'
      ]],
    ['startTimeFrom with an offset and a zone-less startTimeTo, both sent upstream in UTC with a Z',
      '{ startTimeFrom: "2026-02-21T06:46:00+02:00", startTimeTo: "2026-02-24T07:40:00" }',
      { start_time_from: '2026-02-21T04:46:00Z', start_time_to: '2026-02-24T07:40:00Z' }, 6, [
        'enrichedSourceSnapshotRestore', 'readOnlyMetadata', 'readOnlyMetadataFailed', 'readyReindexLate', 'readyReindexFailed', 'readyMediaAdditionLate'
      ]],
    ['startTimeFrom alone, as a date', '{ startTimeFrom: "2026-03-01" }', { start_time_from: '2026-03-01T00:00:00Z' }, 5, [
      'indexingCreation', 'draftCreation', 'readySecondMetadataRunning', 'readOnlyMediaAdditionRunning', 'partialIndexSnapshotCloneFailed'
    ]],
    ['every filter at once', `{ datasetId: "${SEED.datasets.ready}", datasetName: "Product Images Q1", type: REINDEX, status: COMPLETED, createdBy: "dan.okafor@acme.example", startTimeFrom: "2026-01-01T00:00:00Z", startTimeTo: "2026-03-01T00:00:00Z" }`,
      { dataset_id: SEED.datasets.ready, dataset_name: 'Product Images Q1', task_type: 'REINDEX', task_status: 'COMPLETED', created_by: 'dan.okafor@acme.example', start_time_from: '2026-01-01T00:00:00Z', start_time_to: '2026-03-01T00:00:00Z' },
      1, ['readyReindexLate']]
  ])('filters by %s', async (_name, filter, params, total, expected) => {
    const res = await gw.gql(`{ tasks(filter: ${filter}, pageSize: 50) { total hasNextPage nodes { id } } }`)
    expect(res.body).toEqual({ data: { tasks: { total, hasNextPage: false, nodes: ids(expected).map((id) => ({ id })) } } })
    expect(upstreamCalls()).toEqual([taskListCall({ ...params, sort_by: 'start_time', sort_order: 'desc', page: '1', page_size: '50' })])
  })

  it('passes the filter through variables as well as literals', async () => {
    const res = await gw.gql(
      'query ($filter: TaskFilter, $size: Int!) { tasks(filter: $filter, pageSize: $size) { total nodes { id } } }',
      { filter: { type: 'REINDEX', status: 'FAILED', startTimeTo: '2026-03-02T12:00:00+00:00' }, size: 5 }
    )
    expect(res.body).toEqual({ data: { tasks: { total: 1, nodes: [{ id: SEED.tasks.readyReindexFailed }] } } })
    expect(upstreamCalls()).toEqual([taskListCall({ task_type: 'REINDEX', task_status: 'FAILED', start_time_to: '2026-03-02T12:00:00Z', sort_by: 'start_time', sort_order: 'desc', page: '1', page_size: '5' })])
    expect(nodeIds(res.body)).toEqual([SEED.tasks.readyReindexFailed])
  })

  it('matches nothing for a dataset that does not exist, without an error', async () => {
    const res = await gw.gql('{ tasks(filter: { datasetId: "00000000-0000-4000-8000-000000000000" }) { total page pageSize hasNextPage nodes { id } } }')
    expect(res.body).toEqual({ data: { tasks: { total: 0, page: 1, pageSize: 20, hasNextPage: false, nodes: [] } } })
  })
})

describe('Query.tasks orderBy', () => {
  // Each list is the whole Acme task set in the order the README's rules give: the field's value in
  // code-unit order (status by its name), ties by task id ascending in both directions.
  const ORDERS: Record<string, Record<'ASC' | 'DESC', readonly TaskKey[]>> = {
    START_TIME: {
      ASC: [...START_TIME_DESC].reverse(),
      DESC: START_TIME_DESC
    },
    STATUS: {
      ASC: [
        'abortedCreation',
        'readOnlyReindex', 'enrichedSourceCreation', 'readySecondReindex', 'readOnlyMediaAddition', 'readOnlyMetadata', 'partialIndexReindex', 'readySecondCreation',
        'readyMetadata', 'enrichedSourceMetadata', 'enrichedSourceEnrichment', 'readySecondSnapshotClone', 'readyMediaAdditionLate', 'readySnapshotRestore',
        'partialIndexSnapshotRestore', 'enrichedSnapshotClone', 'hiddenCreation', 'hiddenSnapshotClone', 'readyReindexLate', 'readySnapshotClone', 'readyMediaAddition',
        'partialIndexCreation', 'readyCreation', 'enrichedSourceSnapshotRestore', 'readyReindex', 'partialIndexMediaAddition', 'readOnlyCreation', 'enrichedMetadata',
        'readySecondMetadata', 'readySecondMediaAddition', 'partialIndexMediaAdditionLate', 'hiddenMetadata',
        'readySecondMediaAdditionFailed', 'hiddenMediaAdditionFailed', 'enrichedSourceEnrichmentFailed', 'errorCreation', 'partialIndexSnapshotCloneFailed',
        'readOnlyMetadataFailed', 'readySecondSnapshotRestoreFailed', 'readyMetadataFailed', 'readyEnrichmentFailed', 'readyReindexFailed',
        'draftCreation',
        'indexingCreation', 'readOnlyMediaAdditionRunning', 'readySecondMetadataRunning'
      ],
      DESC: [
        'indexingCreation', 'readOnlyMediaAdditionRunning', 'readySecondMetadataRunning',
        'draftCreation',
        'readySecondMediaAdditionFailed', 'hiddenMediaAdditionFailed', 'enrichedSourceEnrichmentFailed', 'errorCreation', 'partialIndexSnapshotCloneFailed',
        'readOnlyMetadataFailed', 'readySecondSnapshotRestoreFailed', 'readyMetadataFailed', 'readyEnrichmentFailed', 'readyReindexFailed',
        'readOnlyReindex', 'enrichedSourceCreation', 'readySecondReindex', 'readOnlyMediaAddition', 'readOnlyMetadata', 'partialIndexReindex', 'readySecondCreation',
        'readyMetadata', 'enrichedSourceMetadata', 'enrichedSourceEnrichment', 'readySecondSnapshotClone', 'readyMediaAdditionLate', 'readySnapshotRestore',
        'partialIndexSnapshotRestore', 'enrichedSnapshotClone', 'hiddenCreation', 'hiddenSnapshotClone', 'readyReindexLate', 'readySnapshotClone', 'readyMediaAddition',
        'partialIndexCreation', 'readyCreation', 'enrichedSourceSnapshotRestore', 'readyReindex', 'partialIndexMediaAddition', 'readOnlyCreation', 'enrichedMetadata',
        'readySecondMetadata', 'readySecondMediaAddition', 'partialIndexMediaAdditionLate', 'hiddenMetadata',
        'abortedCreation'
      ]
    },
    TASK_TYPE: {
      ASC: [
        'readOnlyMetadata', 'readySecondMetadataRunning', 'readyMetadata', 'enrichedSourceMetadata', 'readOnlyMetadataFailed', 'readyMetadataFailed', 'enrichedMetadata',
        'readySecondMetadata', 'hiddenMetadata',
        'enrichedSourceCreation', 'draftCreation', 'indexingCreation', 'readySecondCreation', 'errorCreation', 'hiddenCreation', 'abortedCreation', 'partialIndexCreation',
        'readyCreation', 'readOnlyCreation',
        'enrichedSourceEnrichmentFailed', 'enrichedSourceEnrichment', 'readyEnrichmentFailed',
        'readOnlyMediaAdditionRunning', 'readOnlyMediaAddition', 'readySecondMediaAdditionFailed', 'hiddenMediaAdditionFailed', 'readyMediaAdditionLate', 'readyMediaAddition',
        'partialIndexMediaAddition', 'readySecondMediaAddition', 'partialIndexMediaAdditionLate',
        'readOnlyReindex', 'readySecondReindex', 'partialIndexReindex', 'readyReindexLate', 'readyReindex', 'readyReindexFailed',
        'readySecondSnapshotClone', 'partialIndexSnapshotCloneFailed', 'enrichedSnapshotClone', 'hiddenSnapshotClone', 'readySnapshotClone',
        'readySnapshotRestore', 'partialIndexSnapshotRestore', 'readySecondSnapshotRestoreFailed', 'enrichedSourceSnapshotRestore'
      ],
      DESC: [
        'readySnapshotRestore', 'partialIndexSnapshotRestore', 'readySecondSnapshotRestoreFailed', 'enrichedSourceSnapshotRestore',
        'readySecondSnapshotClone', 'partialIndexSnapshotCloneFailed', 'enrichedSnapshotClone', 'hiddenSnapshotClone', 'readySnapshotClone',
        'readOnlyReindex', 'readySecondReindex', 'partialIndexReindex', 'readyReindexLate', 'readyReindex', 'readyReindexFailed',
        'readOnlyMediaAdditionRunning', 'readOnlyMediaAddition', 'readySecondMediaAdditionFailed', 'hiddenMediaAdditionFailed', 'readyMediaAdditionLate', 'readyMediaAddition',
        'partialIndexMediaAddition', 'readySecondMediaAddition', 'partialIndexMediaAdditionLate',
        'enrichedSourceEnrichmentFailed', 'enrichedSourceEnrichment', 'readyEnrichmentFailed',
        'enrichedSourceCreation', 'draftCreation', 'indexingCreation', 'readySecondCreation', 'errorCreation', 'hiddenCreation', 'abortedCreation', 'partialIndexCreation',
        'readyCreation', 'readOnlyCreation',
        'readOnlyMetadata', 'readySecondMetadataRunning', 'readyMetadata', 'enrichedSourceMetadata', 'readOnlyMetadataFailed', 'readyMetadataFailed', 'enrichedMetadata',
        'readySecondMetadata', 'hiddenMetadata'
      ]
    },
    DATASET_NAME: {
      ASC: [
        'hiddenMediaAdditionFailed', 'hiddenCreation', 'hiddenSnapshotClone', 'hiddenMetadata', // Archived: Legacy Catalog 2023
        'draftCreation', // Customer Uploads April
        'indexingCreation', // Drone Survey March
        'abortedCreation', // Holiday Campaign 2025
        'errorCreation', // Medical Scans Batch 7
        'readyMetadata', 'readyMediaAdditionLate', 'readySnapshotRestore', 'readyReindexLate', 'readySnapshotClone', 'readyMediaAddition', 'readyCreation',
        'readyMetadataFailed', 'readyReindex', 'readyEnrichmentFailed', 'readyReindexFailed', // Product Images Q1
        'enrichedSourceCreation', 'enrichedSourceMetadata', 'enrichedSourceEnrichmentFailed', 'enrichedSourceEnrichment', 'enrichedSourceSnapshotRestore', // Retail Shelf Photos
        'enrichedSnapshotClone', 'enrichedMetadata', // Retail Shelf Photos (enriched)
        'partialIndexReindex', 'partialIndexSnapshotCloneFailed', 'partialIndexSnapshotRestore', 'partialIndexCreation', 'partialIndexMediaAddition',
        'partialIndexMediaAdditionLate', // Street Scenes 2025
        'readySecondReindex', 'readySecondMediaAdditionFailed', 'readySecondCreation', 'readySecondMetadataRunning', 'readySecondSnapshotClone',
        'readySecondSnapshotRestoreFailed', 'readySecondMetadata', 'readySecondMediaAddition', // Training Set v2
        'readOnlyReindex', 'readOnlyMediaAdditionRunning', 'readOnlyMediaAddition', 'readOnlyMetadata', 'readOnlyMetadataFailed', 'readOnlyCreation' // Warehouse Inspection
      ],
      DESC: [
        'readOnlyReindex', 'readOnlyMediaAdditionRunning', 'readOnlyMediaAddition', 'readOnlyMetadata', 'readOnlyMetadataFailed', 'readOnlyCreation',
        'readySecondReindex', 'readySecondMediaAdditionFailed', 'readySecondCreation', 'readySecondMetadataRunning', 'readySecondSnapshotClone',
        'readySecondSnapshotRestoreFailed', 'readySecondMetadata', 'readySecondMediaAddition',
        'partialIndexReindex', 'partialIndexSnapshotCloneFailed', 'partialIndexSnapshotRestore', 'partialIndexCreation', 'partialIndexMediaAddition',
        'partialIndexMediaAdditionLate',
        'enrichedSnapshotClone', 'enrichedMetadata',
        'enrichedSourceCreation', 'enrichedSourceMetadata', 'enrichedSourceEnrichmentFailed', 'enrichedSourceEnrichment', 'enrichedSourceSnapshotRestore',
        'readyMetadata', 'readyMediaAdditionLate', 'readySnapshotRestore', 'readyReindexLate', 'readySnapshotClone', 'readyMediaAddition', 'readyCreation',
        'readyMetadataFailed', 'readyReindex', 'readyEnrichmentFailed', 'readyReindexFailed',
        'errorCreation',
        'abortedCreation',
        'indexingCreation',
        'draftCreation',
        'hiddenMediaAdditionFailed', 'hiddenCreation', 'hiddenSnapshotClone', 'hiddenMetadata'
      ]
    },
    DATASET_ID: {
      ASC: [
        'readOnlyReindex', 'readOnlyMediaAdditionRunning', 'readOnlyMediaAddition', 'readOnlyMetadata', 'readOnlyMetadataFailed', 'readOnlyCreation', // 5a2c7e90
        'partialIndexReindex', 'partialIndexSnapshotCloneFailed', 'partialIndexSnapshotRestore', 'partialIndexCreation', 'partialIndexMediaAddition',
        'partialIndexMediaAdditionLate', // 6b1d8fa2
        'indexingCreation', // 7c4e9b13
        'draftCreation', // 8d5fac24
        'errorCreation', // 9e60bd35
        'abortedCreation', // af71ce46
        'hiddenMediaAdditionFailed', 'hiddenCreation', 'hiddenSnapshotClone', 'hiddenMetadata', // b082df57
        'readyMetadata', 'readyMediaAdditionLate', 'readySnapshotRestore', 'readyReindexLate', 'readySnapshotClone', 'readyMediaAddition', 'readyCreation',
        'readyMetadataFailed', 'readyReindex', 'readyEnrichmentFailed', 'readyReindexFailed', // b1a39406
        'readySecondReindex', 'readySecondMediaAdditionFailed', 'readySecondCreation', 'readySecondMetadataRunning', 'readySecondSnapshotClone',
        'readySecondSnapshotRestoreFailed', 'readySecondMetadata', 'readySecondMediaAddition', // c7e2d1a0
        'enrichedSourceCreation', 'enrichedSourceMetadata', 'enrichedSourceEnrichmentFailed', 'enrichedSourceEnrichment', 'enrichedSourceSnapshotRestore', // d3f81c42
        'enrichedSnapshotClone', 'enrichedMetadata' // e9a4b6c8
      ],
      DESC: [
        'enrichedSnapshotClone', 'enrichedMetadata',
        'enrichedSourceCreation', 'enrichedSourceMetadata', 'enrichedSourceEnrichmentFailed', 'enrichedSourceEnrichment', 'enrichedSourceSnapshotRestore',
        'readySecondReindex', 'readySecondMediaAdditionFailed', 'readySecondCreation', 'readySecondMetadataRunning', 'readySecondSnapshotClone',
        'readySecondSnapshotRestoreFailed', 'readySecondMetadata', 'readySecondMediaAddition',
        'readyMetadata', 'readyMediaAdditionLate', 'readySnapshotRestore', 'readyReindexLate', 'readySnapshotClone', 'readyMediaAddition', 'readyCreation',
        'readyMetadataFailed', 'readyReindex', 'readyEnrichmentFailed', 'readyReindexFailed',
        'hiddenMediaAdditionFailed', 'hiddenCreation', 'hiddenSnapshotClone', 'hiddenMetadata',
        'abortedCreation',
        'errorCreation',
        'draftCreation',
        'indexingCreation',
        'partialIndexReindex', 'partialIndexSnapshotCloneFailed', 'partialIndexSnapshotRestore', 'partialIndexCreation', 'partialIndexMediaAddition',
        'partialIndexMediaAdditionLate',
        'readOnlyReindex', 'readOnlyMediaAdditionRunning', 'readOnlyMediaAddition', 'readOnlyMetadata', 'readOnlyMetadataFailed', 'readOnlyCreation'
      ]
    },
    CREATED_BY: {
      ASC: [
        // dan.okafor@acme.example
        'readOnlyReindex', 'readOnlyMediaAdditionRunning', 'readySecondMediaAdditionFailed', 'readOnlyMetadata', 'partialIndexReindex', 'readySecondCreation',
        'hiddenMediaAdditionFailed', 'partialIndexSnapshotCloneFailed', 'readOnlyMetadataFailed', 'readySnapshotRestore', 'enrichedSnapshotClone', 'readyReindexLate',
        'abortedCreation', 'partialIndexCreation', 'readyEnrichmentFailed', 'partialIndexMediaAddition', 'readyReindexFailed', 'readySecondMetadata',
        'readySecondMediaAddition',
        // priya.shah@acme.example
        'enrichedSourceCreation', 'draftCreation', 'readySecondMetadataRunning', 'enrichedSourceMetadata', 'enrichedSourceEnrichment', 'readySnapshotClone',
        'readySecondSnapshotRestoreFailed', 'readyMetadataFailed', 'enrichedSourceSnapshotRestore', 'enrichedMetadata', 'partialIndexMediaAdditionLate',
        // rachel@acme.example
        'readySecondReindex', 'indexingCreation', 'readOnlyMediaAddition', 'readyMetadata', 'enrichedSourceEnrichmentFailed', 'readySecondSnapshotClone',
        'errorCreation', 'readyMediaAdditionLate', 'partialIndexSnapshotRestore', 'hiddenCreation', 'hiddenSnapshotClone', 'readyMediaAddition', 'readyCreation',
        'readyReindex', 'readOnlyCreation', 'hiddenMetadata'
      ],
      DESC: [
        'readySecondReindex', 'indexingCreation', 'readOnlyMediaAddition', 'readyMetadata', 'enrichedSourceEnrichmentFailed', 'readySecondSnapshotClone',
        'errorCreation', 'readyMediaAdditionLate', 'partialIndexSnapshotRestore', 'hiddenCreation', 'hiddenSnapshotClone', 'readyMediaAddition', 'readyCreation',
        'readyReindex', 'readOnlyCreation', 'hiddenMetadata',
        'enrichedSourceCreation', 'draftCreation', 'readySecondMetadataRunning', 'enrichedSourceMetadata', 'enrichedSourceEnrichment', 'readySnapshotClone',
        'readySecondSnapshotRestoreFailed', 'readyMetadataFailed', 'enrichedSourceSnapshotRestore', 'enrichedMetadata', 'partialIndexMediaAdditionLate',
        'readOnlyReindex', 'readOnlyMediaAdditionRunning', 'readySecondMediaAdditionFailed', 'readOnlyMetadata', 'partialIndexReindex', 'readySecondCreation',
        'hiddenMediaAdditionFailed', 'partialIndexSnapshotCloneFailed', 'readOnlyMetadataFailed', 'readySnapshotRestore', 'enrichedSnapshotClone', 'readyReindexLate',
        'abortedCreation', 'partialIndexCreation', 'readyEnrichmentFailed', 'partialIndexMediaAddition', 'readyReindexFailed', 'readySecondMetadata',
        'readySecondMediaAddition'
      ]
    }
  }
  const SORT_BY: Record<string, string> = { START_TIME: 'start_time', STATUS: 'status', TASK_TYPE: 'task_type', DATASET_NAME: 'dataset_name', DATASET_ID: 'dataset_id', CREATED_BY: 'created_by' }
  const cases = Object.entries(ORDERS).flatMap(([field, byDirection]) => (['ASC', 'DESC'] as const).map((direction) => [field, direction, byDirection[direction]] as const))

  it('has a complete, duplicate-free expected order for each case', () => {
    for (const [, , order] of cases) expect([...order].sort()).toEqual([...START_TIME_DESC].sort())
  })

  it.each(cases)('orders by %s %s', async (field, direction, expected) => {
    const res = await gw.gql(`{ tasks(orderBy: { field: ${field}, direction: ${direction} }, pageSize: 50) { total nodes { id } } }`)
    expect(res.body).toEqual({ data: { tasks: { total: 46, nodes: ids(expected).map((id) => ({ id })) } } })
    expect(upstreamCalls()).toEqual([taskListCall({ sort_by: SORT_BY[field] as string, sort_order: direction.toLowerCase(), page: '1', page_size: '50' })])
  })

  it('defaults the direction to DESC when only the field is given, and the field to START_TIME when only the direction is', async () => {
    const byField = await gw.gql('{ tasks(orderBy: { field: TASK_TYPE }, pageSize: 5) { nodes { id } } }')
    expect(byField.body).toEqual({ data: { tasks: { nodes: ids(ORDERS.TASK_TYPE?.DESC.slice(0, 5) ?? []).map((id) => ({ id })) } } })
    const byDirection = await gw.gql('{ tasks(orderBy: { direction: ASC }, pageSize: 5) { nodes { id } } }')
    expect(byDirection.body).toEqual({ data: { tasks: { nodes: ids(ORDERS.START_TIME?.ASC.slice(0, 5) ?? []).map((id) => ({ id })) } } })
    expect(upstreamCalls()).toEqual([
      taskListCall({ sort_by: 'task_type', sort_order: 'desc', page: '1', page_size: '5' }),
      taskListCall({ sort_by: 'start_time', sort_order: 'asc', page: '1', page_size: '5' })
    ])
  })
})

describe('Dataset.tasks', () => {
  it('lists the tasks of one dataset, with its own filter and order, sending dataset_id upstream', async () => {
    const res = await gw.gql(`{
      dataset(id: "${SEED.datasets.ready}") {
        displayName
        all: tasks(pageSize: 5) { total page pageSize hasNextPage nodes { id datasetId } }
        reindexes: tasks(filter: { type: REINDEX }, orderBy: { field: START_TIME, direction: ASC }, pageSize: 5) {
          total hasNextPage nodes { id status progress errorMessage startTime endTime datasetName }
        }
      }
    }`)
    expect(res.body).toEqual({
      data: {
        dataset: {
          displayName: 'Product Images Q1',
          all: {
            total: 11,
            page: 1,
            pageSize: 5,
            hasNextPage: true,
            nodes: ids(['readyReindexLate', 'readyReindexFailed', 'readyMediaAdditionLate', 'readySnapshotClone', 'readySnapshotRestore']).map((id) => ({ id, datasetId: SEED.datasets.ready }))
          },
          reindexes: {
            total: 3,
            hasNextPage: false,
            nodes: [
              // 33 d 3 h 22 min ago; 20 s + 14 min.
              { id: SEED.tasks.readyReindex, status: 'COMPLETED', progress: 100, errorMessage: null, startTime: '2026-01-28T08:38:00Z', endTime: '2026-01-28T08:52:20Z', datasetName: 'Product Images Q1' },
              // 9 d 6 h 40 min ago; 20 s + 71 % of 16 min (681.6 s): the end is written to the second.
              { id: SEED.tasks.readyReindexFailed, status: 'FAILED', progress: 71, errorMessage: 'Index build ran out of memory on shard 3; retry the reindex', startTime: '2026-02-21T05:20:00Z', endTime: '2026-02-21T05:31:41Z', datasetName: 'Product Images Q1' },
              // 8 d 22 h 9 min ago; 20 s + 15 min.
              { id: SEED.tasks.readyReindexLate, status: 'COMPLETED', progress: 100, errorMessage: null, startTime: '2026-02-21T13:51:00Z', endTime: '2026-02-21T14:06:20Z', datasetName: 'Product Images Q1' }
            ]
          }
        }
      }
    })
    expect(upstreamCalls().sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual([
      { method: 'GET', path: `/api/v1/dataset/${SEED.datasets.ready}`, query: {}, status: 200 },
      taskListCall({ dataset_id: SEED.datasets.ready, sort_by: 'start_time', sort_order: 'desc', page: '1', page_size: '5' }),
      taskListCall({ dataset_id: SEED.datasets.ready, task_type: 'REINDEX', sort_by: 'start_time', sort_order: 'asc', page: '1', page_size: '5' })
    ].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))))
  })

  it('shows the failed and aborted creations as retryable and the running ones as abortable', async () => {
    const res = await gw.gql(`{
      error: dataset(id: "${SEED.datasets.error}") { tasks { nodes { id type status progress errorMessage datasetStatus canAbort canRetry } } }
      aborted: dataset(id: "${SEED.datasets.aborted}") { tasks { nodes { id type status progress errorMessage endTime datasetStatus canAbort canRetry } } }
    }`)
    expect(res.body).toEqual({
      data: {
        error: { tasks: { nodes: [{ id: SEED.tasks.errorCreation, type: 'DATASET_CREATION', status: 'FAILED', progress: 37, errorMessage: 'Failed to read 312 of 1,204 files from s3://acme-medical-imaging/batch-7: AccessDenied', datasetStatus: 'ERROR', canAbort: false, canRetry: true }] } },
        // 6 d 2 h 51 min 8 s ago, 30 s initialising, aborted 4 min after its start: 210 s into a 10 min run, 35 %.
        aborted: { tasks: { nodes: [{ id: SEED.tasks.abortedCreation, type: 'DATASET_CREATION', status: 'ABORTED', progress: 35, errorMessage: null, endTime: '2026-02-24T09:12:52Z', datasetStatus: 'ERROR', canAbort: false, canRetry: true }] } }
      }
    })
  })

  it('refuses a bad pageSize with the document, before the dataset is read', async () => {
    const res = await gw.gql(`{ dataset(id: "${SEED.datasets.ready}") { id tasks(pageSize: 51) { total } } }`, undefined, { 'x-request-id': 'req-ds-tasks' })
    expect([res.status, res.body]).toEqual([400, {
      data: null,
      errors: [{ message: 'Argument pageSize must be from 5 to 50; got 51.', extensions: { code: 'BAD_USER_INPUT', requestId: 'req-ds-tasks' } }]
    }])
    expect(upstreamCalls()).toEqual([])
  })
})

describe('Query.taskFilterOptions', () => {
  it('lists every value of each filter field, sorted, without a time range', async () => {
    const res = await gw.gql('{ taskFilterOptions { datasetNames datasetIds taskTypes createdBy } }')
    expect(res.body).toEqual({
      data: {
        taskFilterOptions: {
          datasetNames: [
            'Archived: Legacy Catalog 2023', 'Customer Uploads April', 'Drone Survey March', 'Holiday Campaign 2025', 'Medical Scans Batch 7', 'Product Images Q1',
            'Retail Shelf Photos', 'Retail Shelf Photos (enriched)', 'Street Scenes 2025', 'Training Set v2', 'Warehouse Inspection'
          ],
          datasetIds: [
            SEED.datasets.readOnly, SEED.datasets.partialIndex, SEED.datasets.indexing, SEED.datasets.draft, SEED.datasets.error, SEED.datasets.aborted,
            SEED.datasets.hidden, SEED.datasets.ready, SEED.datasets.readySecond, SEED.datasets.enrichedSource, SEED.datasets.enriched
          ],
          taskTypes: ['CUSTOM_METADATA', 'DATASET_CREATION', 'ENRICHMENT', 'MEDIA_ADDITION', 'REINDEX', 'SNAPSHOT_CLONE', 'SNAPSHOT_RESTORE'],
          createdBy: ['dan.okafor@acme.example', 'priya.shah@acme.example', 'rachel@acme.example']
        }
      }
    })
    expect(upstreamCalls()).toEqual([{ method: 'GET', path: '/api/v1/tasks/filters', query: {}, status: 200 }])
  })

  it('scopes the values to a time range, inclusive, sent upstream in UTC', async () => {
    const res = await gw.gql('{ taskFilterOptions(startTimeFrom: "2026-02-21T05:46:00+01:00", startTimeTo: "2026-02-24T07:40:00Z") { datasetNames datasetIds taskTypes createdBy } }')
    // The six tasks from readyMediaAdditionLate (04:46 on the 21st) to enrichedSourceSnapshotRestore (07:40 on the 24th).
    expect(res.body).toEqual({
      data: {
        taskFilterOptions: {
          datasetNames: ['Product Images Q1', 'Retail Shelf Photos', 'Warehouse Inspection'],
          datasetIds: [SEED.datasets.readOnly, SEED.datasets.ready, SEED.datasets.enrichedSource],
          taskTypes: ['CUSTOM_METADATA', 'MEDIA_ADDITION', 'REINDEX', 'SNAPSHOT_RESTORE'],
          createdBy: ['dan.okafor@acme.example', 'priya.shah@acme.example', 'rachel@acme.example']
        }
      }
    })
    expect(upstreamCalls()).toEqual([{ method: 'GET', path: '/api/v1/tasks/filters', query: { start_time_from: '2026-02-21T04:46:00Z', start_time_to: '2026-02-24T07:40:00Z' }, status: 200 }])
  })

  it('scopes the values to an open-ended range', async () => {
    const res = await gw.gql('query ($from: DateTime) { taskFilterOptions(startTimeFrom: $from) { datasetNames taskTypes createdBy } }', { from: '2026-03-01T00:00:00Z' })
    expect(res.body).toEqual({
      data: {
        taskFilterOptions: {
          datasetNames: ['Customer Uploads April', 'Drone Survey March', 'Street Scenes 2025', 'Training Set v2', 'Warehouse Inspection'],
          taskTypes: ['CUSTOM_METADATA', 'DATASET_CREATION', 'MEDIA_ADDITION', 'SNAPSHOT_CLONE'],
          createdBy: ['dan.okafor@acme.example', 'priya.shah@acme.example', 'rachel@acme.example']
        }
      }
    })
    expect(upstreamCalls()).toEqual([{ method: 'GET', path: '/api/v1/tasks/filters', query: { start_time_from: '2026-03-01T00:00:00Z' }, status: 200 }])
  })
})

describe('Query.tasks argument errors: the whole error, and no upstream call', () => {
  const rid = { 'x-request-id': 'req-args' }

  it.each([
    ['pageSize 4', '{ tasks(pageSize: 4) { total } }', 'Argument pageSize must be from 5 to 50; got 4.'],
    ['pageSize 51', '{ tasks(pageSize: 51) { total } }', 'Argument pageSize must be from 5 to 50; got 51.'],
    ['page 0', '{ tasks(page: 0) { total } }', 'Argument page must be at least 1; got 0.'],
    ['page -3', '{ tasks(page: -3, pageSize: 5) { total } }', 'Argument page must be at least 1; got -3.'],
    ['a malformed filter.datasetId', '{ tasks(filter: { datasetId: "not-a-uuid" }) { total } }', 'Argument filter.datasetId must be a Visual Layer id (a UUID such as ad48d250-1232-11f1-bfca-fa39f6ed1f22); got "not-a-uuid".'],
    ['startTimeFrom after startTimeTo', '{ tasks(filter: { startTimeFrom: "2026-03-01T00:00:00Z", startTimeTo: "2026-02-01T00:00:00Z" }) { total } }', 'filter.startTimeFrom (2026-03-01T00:00:00Z) is after filter.startTimeTo (2026-02-01T00:00:00Z).']
  ])('refuses %s with BAD_USER_INPUT on the field', async (_name, query, message) => {
    const res = await gw.gql(query, undefined, rid)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      data: null,
      errors: [{ message, locations: [{ line: 1, column: 3 }], path: ['tasks'], extensions: { code: 'BAD_USER_INPUT', requestId: 'req-args' } }]
    })
    expect(upstreamCalls()).toEqual([])
  })

  it('refuses an invalid DateTime literal as BAD_USER_INPUT with status 400', async () => {
    const res = await gw.gql('{ tasks(filter: { startTimeFrom: "last tuesday" }) { total } }', undefined, rid)
    expect(res.status).toBe(400)
    // The scalar throws a TypeError, so graphql-js names the type, the literal and its location.
    expect(res.body).toEqual({
      data: null,
      errors: [{
        message: 'Expected value of type "DateTime", found "last tuesday"; DateTime must be an ISO-8601 date or date-time such as 2026-03-01T14:30:00Z; got "last tuesday".',
        locations: [{ line: 1, column: 34 }],
        extensions: { code: 'BAD_USER_INPUT', requestId: 'req-args' }
      }]
    })
    expect(upstreamCalls()).toEqual([])
  })

  it('refuses a DateTime literal that is not a real day rather than rolling it into March', async () => {
    const res = await gw.gql('{ taskFilterOptions(startTimeTo: "2026-02-30T00:00:00Z") { taskTypes } }', undefined, rid)
    expect(res.status).toBe(400)
    expect(res.body).toEqual({
      data: null,
      errors: [{
        message: 'Expected value of type "DateTime", found "2026-02-30T00:00:00Z"; DateTime "2026-02-30T00:00:00Z" is not a real point in time.',
        locations: [{ line: 1, column: 34 }],
        extensions: { code: 'BAD_USER_INPUT', requestId: 'req-args' }
      }]
    })
    expect(upstreamCalls()).toEqual([])
  })

  it('refuses an invalid DateTime variable as BAD_USER_INPUT with status 400', async () => {
    const res = await gw.gql('query ($to: DateTime) { tasks(filter: { startTimeTo: $to }) { total } }', { to: '03/01/2026' }, rid)
    expect(res.status).toBe(400)
    expect(res.body).toEqual({
      data: null,
      errors: [{
        message: 'Variable "$to" got invalid value "03/01/2026"; Expected type "DateTime". DateTime must be an ISO-8601 date or date-time such as 2026-03-01T14:30:00Z; got "03/01/2026".',
        locations: [{ line: 1, column: 8 }],
        extensions: { code: 'BAD_USER_INPUT', requestId: 'req-args' }
      }]
    })
    expect(upstreamCalls()).toEqual([])
  })

  it('refuses an invalid DateTime inside a filter variable, naming its path', async () => {
    const res = await gw.gql('query ($filter: TaskFilter) { tasks(filter: $filter) { total } }', { filter: { startTimeFrom: 1772409600 } }, rid)
    expect(res.status).toBe(400)
    expect(res.body).toEqual({
      data: null,
      errors: [{
        message: 'Variable "$filter" got invalid value 1772409600 at "filter.startTimeFrom"; Expected type "DateTime". DateTime must be an ISO-8601 date or date-time such as 2026-03-01T14:30:00Z; got 1772409600.',
        locations: [{ line: 1, column: 8 }],
        extensions: { code: 'BAD_USER_INPUT', requestId: 'req-args' }
      }]
    })
    expect(upstreamCalls()).toEqual([])
  })

  it('refuses startTimeFrom after startTimeTo given through variables, in any zone', async () => {
    // 10:00 at +02:00 is 08:00Z, one hour after 07:00Z.
    const res = await gw.gql('query ($f: TaskFilter) { tasks(filter: $f) { total } }', { f: { startTimeFrom: '2026-03-01T10:00:00+02:00', startTimeTo: '2026-03-01T07:00:00Z' } }, rid)
    expect(res.body).toEqual({
      data: null,
      errors: [{ message: 'filter.startTimeFrom (2026-03-01T08:00:00Z) is after filter.startTimeTo (2026-03-01T07:00:00Z).', locations: [{ line: 1, column: 26 }], path: ['tasks'], extensions: { code: 'BAD_USER_INPUT', requestId: 'req-args' } }]
    })
    expect(upstreamCalls()).toEqual([])
  })

  it('accepts a range within one second, and equal bounds', async () => {
    const equal = await gw.gql('{ tasks(filter: { startTimeFrom: "2026-03-02T11:59:50Z", startTimeTo: "2026-03-02T11:59:50Z" }) { total nodes { id } } }')
    expect(equal.body).toEqual({ data: { tasks: { total: 1, nodes: [{ id: SEED.tasks.indexingCreation }] } } })
    const subSecond = await gw.gql('{ tasks(filter: { startTimeFrom: "2026-03-02T11:59:50Z", startTimeTo: "2026-03-02T11:59:50.500Z" }) { total nodes { id } } }')
    expect(subSecond.body).toEqual({ data: { tasks: { total: 1, nodes: [{ id: SEED.tasks.indexingCreation }] } } })
  })

  it('refuses a range whose start is later by a fraction of a second', async () => {
    const res = await gw.gql('{ tasks(filter: { startTimeFrom: "2026-03-02T11:59:50.500Z", startTimeTo: "2026-03-02T11:59:50Z" }) { total } }', undefined, rid)
    expect(res.body).toEqual({
      data: null,
      errors: [{ message: 'filter.startTimeFrom (2026-03-02T11:59:50.500Z) is after filter.startTimeTo (2026-03-02T11:59:50Z).', locations: [{ line: 1, column: 3 }], path: ['tasks'], extensions: { code: 'BAD_USER_INPUT', requestId: 'req-args' } }]
    })
    expect(upstreamCalls()).toEqual([])
  })
})
