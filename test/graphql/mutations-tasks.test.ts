import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { when } from '../helpers/wait.js'

/**
 * Mutation.abortTask and Mutation.retryTask on every task state of the seed: one POST each, never
 * retried; Visual Layer's refusals become CONFLICT / BAD_USER_INPUT saying the state or type.
 */

let gw: TestGateway
// Short enough for the case that waits it out, long enough for every other call on a busy machine.
beforeAll(async () => { gw = await startTestGateway({ UPSTREAM_TIMEOUT_MS: '2000' }) })
afterAll(async () => { await gw.close() })
beforeEach(() => { gw.emulator.reset() })

const FIELDS = 'id type status statusMessage progress errorMessage startTime endTime datasetId datasetName datasetStatus canAbort canRetry dataset { id status progress }'
const abort = async (taskId: string): Promise<Awaited<ReturnType<TestGateway['gql']>>> =>
  await gw.gql(`mutation ($id: ID!) { abortTask(taskId: $id) { ${FIELDS} } }`, { id: taskId }, { 'x-request-id': 'req-task' })
const retry = async (taskId: string): Promise<Awaited<ReturnType<TestGateway['gql']>>> =>
  await gw.gql(`mutation ($id: ID!) { retryTask(taskId: $id) { ${FIELDS} } }`, { id: taskId }, { 'x-request-id': 'req-task' })
const upstreamCalls = (): string[] => gw.emulator.calls().map((call) => `${call.method} ${call.path} ${call.status}`)

const ABORT_RULE = 'Abort works only on a DATASET_CREATION task that is INITIALIZING, or RUNNING before its final commit phase; Task.canAbort tells in advance.'
const RETRY_RULE = 'Retry works only on a DATASET_CREATION task that FAILED or was ABORTED; Task.canRetry tells in advance.'

function refusal (field: 'abortTask' | 'retryTask', code: string, message: string, upstream?: number): unknown {
  return {
    data: null,
    errors: [{ message, locations: [{ line: 1, column: 23 }], path: [field], extensions: { code, requestId: 'req-task', ...(upstream === undefined ? {} : { upstream: { status: upstream } }) } }]
  }
}

describe('Mutation.abortTask', () => {
  it.each([
    ['INITIALIZING', 'draftCreation', 'draft', 'Customer Uploads April', 0, '2026-03-02T11:59:30Z'],
    ['RUNNING', 'indexingCreation', 'indexing', 'Drone Survey March', 14, '2026-03-02T11:59:50Z']
  ] as const)('aborts a dataset creation that is %s with one POST, and its dataset turns ERROR', async (_state, task, dataset, name, progress, startTime) => {
    const res = await abort(SEED.tasks[task])
    expect(res.body).toEqual({
      data: {
        abortTask: {
          id: SEED.tasks[task],
          type: 'DATASET_CREATION',
          status: 'ABORTED',
          statusMessage: 'Aborted by user',
          progress,
          errorMessage: null,
          startTime,
          endTime: '2026-03-02T12:00:00Z',
          datasetId: SEED.datasets[dataset],
          datasetName: name,
          datasetStatus: 'ERROR',
          canAbort: false,
          canRetry: true,
          dataset: { id: SEED.datasets[dataset], status: 'ERROR', progress }
        }
      }
    })
    expect(upstreamCalls()).toEqual([`POST /api/v1/tasks/${SEED.tasks[task]}/abort 200`, `GET /api/v1/dataset/${SEED.datasets[dataset]} 200`])
    const after = await gw.gql(`{ dataset(id: "${SEED.datasets[dataset]}") { status errorMessage } }`)
    expect(after.body).toEqual({ data: { dataset: { status: 'ERROR', errorMessage: 'Dataset creation was aborted' } } })
  })

  it.each([
    ['COMPLETED', 'readyCreation', 'Task is already COMPLETED and cannot be aborted'],
    ['FAILED', 'errorCreation', 'Task is already FAILED and cannot be aborted'],
    ['ABORTED', 'abortedCreation', 'Task is already ABORTED and cannot be aborted'],
    ['a FAILED enrichment', 'readyEnrichmentFailed', 'Only DATASET_CREATION tasks can be aborted; this task is ENRICHMENT'],
    ['a RUNNING metadata import', 'readySecondMetadataRunning', 'Only DATASET_CREATION tasks can be aborted; this task is CUSTOM_METADATA'],
    ['a COMPLETED reindex', 'readyReindex', 'Only DATASET_CREATION tasks can be aborted; this task is REINDEX']
  ] as const)('answers CONFLICT for a task that is %s, with Visual Layer\'s reason', async (_state, task, detail) => {
    const res = await abort(SEED.tasks[task])
    expect(res.body).toEqual(refusal('abortTask', 'CONFLICT', `Task ${SEED.tasks[task]} cannot be aborted now; Visual Layer says: ${detail}. ${ABORT_RULE}`, 409))
    expect(upstreamCalls()).toEqual([`POST /api/v1/tasks/${SEED.tasks[task]}/abort 409`])
  })

  it('answers CONFLICT for a creation in its final commit phase', async () => {
    gw.emulator.advance(29_000)
    const res = await abort(SEED.tasks.indexingCreation)
    expect(res.body).toEqual(refusal('abortTask', 'CONFLICT', `Task ${SEED.tasks.indexingCreation} cannot be aborted now; Visual Layer says: Task is in its final commit phase (progress 97%) and can no longer be aborted. ${ABORT_RULE}`, 409))
  })
})

describe('Mutation.retryTask', () => {
  it.each([
    ['FAILED', 'errorCreation', 'error', 'Medical Scans Batch 7'],
    ['ABORTED', 'abortedCreation', 'aborted', 'Holiday Campaign 2025']
  ] as const)('restarts a dataset creation that %s with one POST, and follows it to COMPLETED', async (_state, task, dataset, name) => {
    const res = await retry(SEED.tasks[task])
    expect(res.body).toEqual({
      data: {
        retryTask: {
          id: SEED.tasks[task],
          type: 'DATASET_CREATION',
          status: 'INITIALIZING',
          statusMessage: 'Preparing dataset creation',
          progress: 0,
          errorMessage: null,
          startTime: '2026-03-02T12:00:00Z',
          endTime: null,
          datasetId: SEED.datasets[dataset],
          datasetName: name,
          datasetStatus: 'DRAFT',
          canAbort: true,
          canRetry: false,
          dataset: { id: SEED.datasets[dataset], status: 'DRAFT', progress: 0 }
        }
      }
    })
    expect(upstreamCalls()).toEqual([`POST /api/v1/tasks/${SEED.tasks[task]}/retry 200`, `GET /api/v1/dataset/${SEED.datasets[dataset]} 200`])
    gw.emulator.advance(30_000)
    const done = await gw.gql(`{ dataset(id: "${SEED.datasets[dataset]}") { status progress errorMessage tasks(filter: {type: DATASET_CREATION}) { nodes { id status progress endTime canRetry } } } }`)
    expect(done.body).toEqual({
      data: { dataset: { status: 'READY', progress: 100, errorMessage: null, tasks: { nodes: [{ id: SEED.tasks[task], status: 'COMPLETED', progress: 100, endTime: '2026-03-02T12:00:30Z', canRetry: false }] } } }
    })
  })

  it.each([
    ['INITIALIZING', 'draftCreation', 'Only FAILED or ABORTED tasks can be retried; this task is INITIALIZING'],
    ['RUNNING', 'indexingCreation', 'Only FAILED or ABORTED tasks can be retried; this task is RUNNING'],
    ['COMPLETED', 'readyCreation', 'Only FAILED or ABORTED tasks can be retried; this task is COMPLETED'],
    ['a FAILED enrichment', 'readyEnrichmentFailed', 'Only DATASET_CREATION tasks can be retried; this task is ENRICHMENT'],
    ['a FAILED snapshot clone', 'partialIndexSnapshotCloneFailed', 'Only DATASET_CREATION tasks can be retried; this task is SNAPSHOT_CLONE']
  ] as const)('answers BAD_USER_INPUT for a task that is %s, with Visual Layer\'s reason', async (_state, task, detail) => {
    const res = await retry(SEED.tasks[task])
    expect(res.body).toEqual(refusal('retryTask', 'BAD_USER_INPUT', `Task ${SEED.tasks[task]} cannot be retried; Visual Layer says: ${detail}. ${RETRY_RULE}`, 400))
    expect(upstreamCalls()).toEqual([`POST /api/v1/tasks/${SEED.tasks[task]}/retry 400`])
  })
})

describe('both task mutations', () => {
  it.each(['abortTask', 'retryTask'] as const)('%s: NOT_FOUND for a task of another account or none at all', async (field) => {
    const run = field === 'abortTask' ? abort : retry
    const action = field === 'abortTask' ? 'abort' : 'retry'
    for (const id of [SEED.tasks.secondaryErrorCreation, '00000000-0000-4000-8000-000000000000']) {
      const res = await run(id)
      expect(res.body).toEqual(refusal(field, 'NOT_FOUND', `Task ${id} does not exist, or you may not see it.`, 404))
    }
    expect(upstreamCalls()).toEqual([
      `POST /api/v1/tasks/${SEED.tasks.secondaryErrorCreation}/${action} 404`,
      `POST /api/v1/tasks/00000000-0000-4000-8000-000000000000/${action} 404`
    ])
  })

  it.each(['abortTask', 'retryTask'] as const)('%s: BAD_USER_INPUT for a malformed id, before any upstream call', async (field) => {
    const res = await (field === 'abortTask' ? abort : retry)('task-1/../../datasets')
    expect(res.body).toEqual(refusal(field, 'BAD_USER_INPUT', 'Argument taskId must be a Visual Layer id (a UUID such as ad48d250-1232-11f1-bfca-fa39f6ed1f22); got "task-1/../../datasets".'))
    expect(upstreamCalls()).toEqual([])
  })

  const faults = [
    ['503', { status: 503 }, 'answered HTTP 503', 'UPSTREAM_UNAVAILABLE', 503, 503],
    // Held past the deadline, then dropped by the emulator once the gateway gave up (status 0).
    ['an answer slower than UPSTREAM_TIMEOUT_MS', { hold: 'slow' }, 'did not answer in time', 'UPSTREAM_UNAVAILABLE', undefined, 0],
    ['a dropped connection', { drop: true }, 'could not be reached or dropped the connection', 'UPSTREAM_UNAVAILABLE', undefined, 0]
  ] as const

  for (const [field, task, action, verb] of [['abortTask', 'draftCreation', 'abort', 'aborted'], ['retryTask', 'errorCreation', 'retry', 'retried']] as const) {
    it.each(faults)(`${field}: sends the POST once on %s and says the outcome is unknown`, async (_name, fault, what, code, upstream, finalStatus) => {
      const id = SEED.tasks[task]
      gw.emulator.injectFault({ method: 'POST', path: `/api/v1/tasks/*/${action}`, ...fault })
      const res = await (field === 'abortTask' ? abort : retry)(id)
      expect(res.body).toEqual(refusal(field, code, `Visual Layer ${what} while the gateway asked it to ${action} task ${id}, so whether the task was ${verb} is unknown. Check the task's status in the task list (Query.tasks, or Dataset.tasks of its dataset) before trying again.`, upstream))
      expect(upstreamCalls()).toEqual([`POST /api/v1/tasks/${id}/${action} ${finalStatus}`])
      if ('hold' in fault) await when('the held call to be dropped', (listener) => gw.emulator.onHold(listener), () => gw.emulator.held(fault.hold) === 0)
    })
  }
})
