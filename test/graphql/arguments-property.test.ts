import fc from 'fast-check'
import { createClient, type Client } from 'graphql-ws'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import { ERROR_CODES } from '../../src/errors.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { when } from '../helpers/wait.js'

/*
 * Property-based tests (fast-check) over every argument of every operation, over HTTP and over
 * WebSocket. Each argument's values are drawn tagged valid or invalid by construction (a UUID or
 * not, within its cap or not, of its type or not), and for every draw:
 * - no 5xx, and every error carries a code of the documented list;
 * - an invalid argument costs Visual Layer nothing (the emulator's call log stays empty), and is
 *   answered BAD_USER_INPUT or QUERY_REJECTED;
 * - every id that reaches Visual Layer (path segment, dataset_id parameter) is one the caller sent,
 *   as the gateway validated and normalised it (a lower-case UUID);
 * - nothing is logged at error level, and no rejection goes unhandled (vitest fails the run on one).
 * Runs are few per operation (RUNS), so the whole file takes seconds.
 */

const RUNS = 15
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const CODES = new Set<string>(ERROR_CODES)

/** A value to send, and whether the gateway must accept it. */
interface Tagged { value: unknown, ok: boolean }
const good = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<Tagged> => arb.map((value) => ({ value, ok: true }))
const bad = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<Tagged> => arb.map((value) => ({ value, ok: false }))
/** Values of no GraphQL input type a String, ID or enum accepts (ID takes integers, as strings that are no UUID). */
// (No infinities: JSON sends them as null.)
const notText = fc.oneof(fc.boolean(), fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Number.isInteger(n)), fc.array(fc.string({ maxLength: 3 }), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 2 }))

const SEEDED = [...Object.values(SEED.datasets), ...Object.values(SEED.tasks)]
const id = fc.oneof(
  good(fc.oneof(fc.uuid(), fc.uuid().map((u) => u.toUpperCase()), fc.constantFrom(...SEEDED))),
  bad(fc.oneof(
    fc.string({ maxLength: 60 }).filter((s) => !UUID.test(s)),
    fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !UUID.test(s)),
    fc.uuid().map((u) => `${u}/../datasets`),
    fc.uuid().map((u) => ` ${u}`),
    fc.uuid().map((u) => `${u}\n`),
    fc.uuid().map((u) => u.replaceAll('-', '')),
    fc.constantFrom('../datasets', '%2e%2e%2f', 'null', '', `${SEED.datasets.ready}?page=2`),
    fc.integer(),
    fc.constant(null),
    notText
  ))
)
/** A nullable ID: null is fine there. */
const optionalId = id.map((t) => (t.value === null ? { value: null, ok: true } : t))
const text = (max: number): fc.Arbitrary<Tagged> => fc.oneof(
  good(fc.oneof(fc.string({ maxLength: Math.min(max, 40) }), fc.string({ unit: 'binary', maxLength: Math.floor(max / 2) }))),
  bad(fc.oneof(fc.string({ minLength: max + 1, maxLength: max + 30 }), fc.integer(), notText))
)
/** An ID that need not be a UUID (a model id): GraphQL's ID takes an integer as its digits, so one is fine. */
const idText = (max: number): fc.Arbitrary<Tagged> => fc.oneof(
  good(fc.oneof(fc.string({ maxLength: Math.min(max, 40) }), fc.string({ unit: 'binary', maxLength: Math.floor(max / 2) }), fc.integer())),
  bad(fc.oneof(fc.string({ minLength: max + 1, maxLength: max + 30 }), notText))
)
const optional = (arb: fc.Arbitrary<Tagged>): fc.Arbitrary<Tagged> => fc.oneof(arb, good(fc.constant(null)))
/** A GraphQL Int (32 bits) from min to max. */
const int = (min: number, max = 2 ** 31 - 1): fc.Arbitrary<Tagged> => fc.oneof(
  good(fc.integer({ min, max })),
  bad(fc.oneof(fc.integer({ max: min - 1, min: -(2 ** 31) }), ...(max < 2 ** 31 - 1 ? [fc.integer({ min: max + 1, max: 2 ** 31 - 1 })] : []), fc.constant(2 ** 31),
    fc.constant(1.5), fc.string({ maxLength: 4 }), fc.constant(null)))
)
const bool = fc.oneof(good(fc.boolean()), bad(fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.constant(null))))
const enumOf = (values: string[], refused: string[] = []): fc.Arbitrary<Tagged> => fc.oneof(
  good(fc.constantFrom(...values)),
  bad(fc.oneof(fc.constantFrom(...refused, 'done', 'ready'), fc.string({ maxLength: 12 }).filter((s) => !values.includes(s) && !refused.includes(s)), fc.integer()))
)
const dateTime = fc.oneof(
  good(fc.oneof(
    fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()),
    fc.constantFrom('2026-03-01', '2026-03-01T12:00:00', '2026-03-01T12:00:00+02:00')
  )),
  bad(fc.oneof(fc.constantFrom('2026-02-30', '2026-13-01', 'yesterday', '2026-03-01T25:00:00Z', '1'.repeat(80)), fc.integer(), notText))
)
const optionalDate = optional(dateTime)

/** Draws of a record of tagged arguments; the draw is valid when every argument is and `also` holds. */
type Args = Record<string, Tagged | undefined>
const record = (shape: Record<string, fc.Arbitrary<Tagged>>): fc.Arbitrary<Args> => fc.record(shape, { requiredKeys: [] })
const valuesOf = (args: Args): Record<string, unknown> => Object.fromEntries(Object.entries(args).filter(([, t]) => t !== undefined).map(([k, t]) => [k, t?.value]))
const allOk = (args: Args): boolean => Object.values(args).every((t) => t === undefined || t.ok)
/** An input object argument: the object of its fields' values, valid when every field is (missing fields: unset). */
const inputObject = (shape: Record<string, fc.Arbitrary<Tagged>>, also: (fields: Args) => boolean = () => true): fc.Arbitrary<Tagged> =>
  record(shape).map((fields) => ({ value: valuesOf(fields), ok: allOk(fields) && also(fields) }))
/** From and to as instants, when both are valid: from after to is refused. */
const inOrder = (from: Tagged | undefined, to: Tagged | undefined): boolean =>
  from?.ok !== true || to?.ok !== true || from.value === null || to.value === null || Date.parse(normal(from.value)) <= Date.parse(normal(to.value))
const normal = (value: unknown): string => {
  const text = String(value)
  return /(Z|[+-]\d{2}:?\d{2})$/.test(text) || !text.includes('T') ? text : `${text}Z`
}

const TASK_TYPES = ['DATASET_CREATION', 'MEDIA_ADDITION', 'REINDEX', 'ENRICHMENT', 'CUSTOM_METADATA', 'SNAPSHOT_RESTORE', 'SNAPSHOT_CLONE']
const TASK_STATUSES = ['INITIALIZING', 'RUNNING', 'COMPLETED', 'FAILED', 'ABORTED']
const order = optional(inputObject({
  field: enumOf(['START_TIME', 'STATUS', 'TASK_TYPE', 'DATASET_NAME', 'DATASET_ID', 'CREATED_BY']),
  direction: enumOf(['ASC', 'DESC'])
}))
const datasetTaskFilterFields = {
  type: optional(enumOf(TASK_TYPES, ['UNKNOWN'])),
  status: optional(enumOf(TASK_STATUSES, ['UNKNOWN'])),
  createdBy: optional(text(256)),
  startTimeFrom: optionalDate,
  startTimeTo: optionalDate
}
const datasetTaskFilter = optional(inputObject(datasetTaskFilterFields, (f) => inOrder(f.startTimeFrom, f.startTimeTo)))
const taskFilter = optional(inputObject({ ...datasetTaskFilterFields, datasetId: optionalId, datasetName: optional(text(256)) }, (f) => inOrder(f.startTimeFrom, f.startTimeTo)))
const model = inputObject({ type: text(100), modelId: fc.oneof(idText(200), bad(fc.constant(null))) }, (f) => f.type !== undefined && f.modelId !== undefined)
const models = fc.oneof(
  fc.array(model, { minLength: 1, maxLength: 3 }).map((list) => ({ value: list.map((m) => m.value), ok: list.every((m) => m.ok) })),
  bad(fc.constant([])),
  bad(fc.array(fc.constant({ type: 'CAPTION_IMAGES', modelId: 'vl_image_captioner_v00' }), { minLength: 33, maxLength: 34 })),
  bad(notText)
)

interface Operation {
  name: string
  document: string
  args: fc.Arbitrary<Args>
  /** Extra validity rule across arguments; required arguments must be present. */
  valid?: (args: Args) => boolean
  /**
   * Ids the document itself sends (literals), which may reach Visual Layer when the draw is valid.
   * An invalid argument of a field nested under them is refused before their parent is read.
   */
  literalIds?: string[]
  subscription?: boolean
}

const required = (...names: string[]) => (args: Args): boolean => names.every((name) => args[name] !== undefined)
const pageArgs = { page: int(1), pageSize: int(5, 50) }

const OPERATIONS: Operation[] = [
  { name: 'dataset(id)', document: 'query ($id: ID!) { dataset(id: $id) { id } }', args: record({ id }), valid: required('id') },
  {
    name: 'datasetsByIds(ids)',
    document: 'query ($ids: [ID!]!) { datasetsByIds(ids: $ids) { id } }',
    args: record({ ids: fc.array(id, { maxLength: 4 }).map((list) => ({ value: list.map((t) => t.value), ok: list.every((t) => t.ok && t.value !== null) })) }),
    valid: required('ids')
  },
  {
    name: 'tasks(filter, orderBy, page, pageSize)',
    document: 'query ($filter: TaskFilter, $orderBy: TaskOrder, $page: Int!, $pageSize: Int!) { tasks(filter: $filter, orderBy: $orderBy, page: $page, pageSize: $pageSize) { total } }',
    args: record({ filter: taskFilter, orderBy: order, ...pageArgs }),
    valid: required('page', 'pageSize')
  },
  {
    name: 'taskFilterOptions(startTimeFrom, startTimeTo)',
    document: 'query ($from: DateTime, $to: DateTime) { taskFilterOptions(startTimeFrom: $from, startTimeTo: $to) { taskTypes } }',
    args: record({ from: optionalDate, to: optionalDate }),
    valid: (args) => inOrder(args.from, args.to)
  },
  {
    name: 'Dataset.models(onlyActive)',
    document: `query ($onlyActive: Boolean!) { dataset(id: "${SEED.datasets.ready}") { models(onlyActive: $onlyActive) { id } } }`,
    args: record({ onlyActive: bool }),
    valid: required('onlyActive'),
    literalIds: [SEED.datasets.ready]
  },
  {
    name: 'Dataset.tasks(filter, orderBy, page, pageSize)',
    document: `query ($filter: DatasetTaskFilter, $orderBy: TaskOrder, $page: Int!, $pageSize: Int!) {
      dataset(id: "${SEED.datasets.ready}") { tasks(filter: $filter, orderBy: $orderBy, page: $page, pageSize: $pageSize) { total } } }`,
    args: record({ filter: datasetTaskFilter, orderBy: order, ...pageArgs }),
    valid: required('page', 'pageSize'),
    literalIds: [SEED.datasets.ready]
  },
  {
    name: 'enrichDataset(datasetId, models, idempotencyKey)',
    document: 'mutation ($datasetId: ID!, $models: [EnrichmentModelInput!]!, $key: String) { enrichDataset(datasetId: $datasetId, models: $models, idempotencyKey: $key) { enrichedDatasetId } }',
    args: record({ datasetId: id, models, key: optional(fc.oneof(text(255), bad(fc.constant('')))) }),
    valid: required('datasetId', 'models')
  },
  { name: 'abortTask(taskId)', document: 'mutation ($taskId: ID!) { abortTask(taskId: $taskId) { id } }', args: record({ taskId: id }), valid: required('taskId') },
  { name: 'retryTask(taskId)', document: 'mutation ($taskId: ID!) { retryTask(taskId: $taskId) { id } }', args: record({ taskId: id }), valid: required('taskId') },
  {
    name: 'datasetStatusChanged(datasetId, follow)',
    document: 'subscription ($datasetId: ID!, $follow: Boolean!) { datasetStatusChanged(datasetId: $datasetId, follow: $follow) { id } }',
    args: record({ datasetId: id, follow: bool }),
    valid: required('datasetId', 'follow'),
    subscription: true
  },
  {
    name: 'taskUpdated(datasetId, taskId)',
    document: 'subscription ($datasetId: ID!, $taskId: ID) { taskUpdated(datasetId: $datasetId, taskId: $taskId) { id } }',
    args: record({ datasetId: id, taskId: optionalId }),
    valid: required('datasetId'),
    subscription: true
  }
]

const PATH_WORDS = new Set(['', 'api', 'v1', 'dataset', 'datasets', 'enrichment', 'tasks', 'creation-status', 'context', 'list_models', 'enrich_dataset', 'abort', 'retry', 'filters'])

/** Every id sent, valid ones only, as the gateway normalises them. */
function sentIds (args: Args, literal: string[] = []): Set<string> {
  const ids = new Set(literal)
  const visit = (value: unknown): void => {
    if (typeof value === 'string' && UUID.test(value)) ids.add(value.toLowerCase())
    else if (Array.isArray(value)) value.forEach(visit)
    else if (typeof value === 'object' && value !== null) Object.values(value).forEach(visit)
  }
  visit(valuesOf(args))
  return ids
}

interface Answer { status: number, errors: ReadonlyArray<{ extensions?: { code?: unknown } }> }

/**
 * `ours` tells this draw's upstream calls by their request id: a call of the draw before may still
 * arrive after its answer (one read of a pre-flight answered while another is on its way). Polls
 * (request id `poll-<dataset>`) are left out: a poller is made only for an id watch.ts has checked,
 * and test/live covers what pollers send.
 */
function check (gw: TestGateway, operation: Operation, args: Args, answer: Answer, ours: (requestId: string | null) => boolean): void {
  expect(answer.status).toBeLessThan(500)
  for (const error of answer.errors) expect(CODES.has(String(error.extensions?.code))).toBe(true)
  const calls = gw.emulator.calls().filter((call) => ours(call.requestId))
  const valid = allOk(args) && (operation.valid?.(args) ?? true)
  if (!valid) {
    expect(calls).toEqual([])
    expect(answer.errors.map((error) => error.extensions?.code).filter((code) => code === 'BAD_USER_INPUT' || code === 'QUERY_REJECTED').length).toBeGreaterThan(0)
  }
  const ids = sentIds(args, operation.literalIds)
  for (const call of calls) {
    const reached = [...call.path.split('/').filter((segment) => !PATH_WORDS.has(segment)), ...(call.query.dataset_id === undefined ? [] : [call.query.dataset_id])]
    for (const value of reached) expect(ids.has(value), `${call.method} ${call.path} carries ${value}, not an id the caller sent`).toBe(true)
  }
}

let gw: TestGateway
let client: Client
beforeAll(async () => {
  // Pollers fetch once and then wait an hour: every upstream call of a run is made before its first event.
  // Draws run back to back on one socket, hundreds in seconds: more than WS_SUBSCRIBE_BURST lets a client start.
  gw = await startTestGateway({ POLL_INTERVAL_MS: '3600000', WS_SUBSCRIBE_BURST: '100000' })
  // Each subscription's id is the draw's, so that its upstream calls (request id `<connection>:<id>`) are told apart.
  client = createClient({ url: `${gw.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0, onNonLazyError: () => {}, generateID: () => nextId })
})

let draws = 0
let nextId = 'draw-0'
afterAll(async () => {
  await client.dispose()
  expect(gw.logs.entries().filter((entry) => (entry.level as number) >= 50)).toEqual([])
  await gw.close()
})

describe('over HTTP', () => {
  it.each(OPERATIONS.filter((operation) => operation.subscription !== true).map((operation) => [operation.name, operation] as const))('%s', async (_name, operation) => {
    await fc.assert(fc.asyncProperty(operation.args, async (args) => {
      gw.emulator.clearCalls()
      const draw = `draw-${++draws}`
      const res = await fetch(`${gw.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': draw },
        body: JSON.stringify({ query: operation.document, variables: valuesOf(args) })
      })
      const body = await res.json() as { errors?: Answer['errors'] }
      check(gw, operation, args, { status: res.status, errors: body.errors ?? [] }, (requestId) => requestId === draw)
    }), { numRuns: RUNS })
  })
})

describe('over WebSocket', () => {
  /**
   * The first result of the operation (or its refusal), then unsubscribed. taskUpdated without a
   * taskId sends nothing until a task changes (`mayBeSilent`): once Visual Layer has answered its one
   * call (the dataset's task list) and a query on the same socket has made the round trip, its
   * silence is the answer.
   */
  async function firstAnswer (id: string, document: string, variables: Record<string, unknown>, mayBeSilent: boolean): Promise<Answer> {
    let answered = false
    /** Told when the operation answers, or at the end. */
    const settled = new Set<(event: undefined) => void>()
    const answer = (): void => {
      answered = true
      for (const listener of [...settled]) listener(undefined)
    }
    let unsubscribe = (): void => {}
    const first = new Promise<Answer>((resolve) => {
      const settle = (result: Answer): void => { answer(); resolve(result) }
      nextId = id
      unsubscribe = client.subscribe({ query: document, variables }, {
        next: (result) => { settle({ status: 200, errors: (result.errors ?? []) as Answer['errors'] }) },
        error: (err) => { settle({ status: 200, errors: Array.isArray(err) ? err as Answer['errors'] : [{ extensions: { code: `closed: ${String(err)}` } }] }) },
        complete: () => { settle({ status: 200, errors: [] }) }
      })
    })
    const quiet = (async (): Promise<Answer | null> => {
      if (!mayBeSilent) return null
      // Each call Visual Layer answers, and the operation's answer, is a moment to look again.
      await when('an answer, or Visual Layer\'s to each call', (listener) => {
        const stop = gw.emulator.onCall(() => { listener(undefined) })
        settled.add(listener)
        return () => { stop(); settled.delete(listener) }
      }, () => answered || (gw.emulator.calls().length > 0 && gw.emulator.calls().every((call) => call.status !== 0)))
      if (answered) return null
      await roundTrip()
      return { status: 200, errors: [] }
    })()
    const result = await Promise.race([first, quiet.then((silence) => silence ?? first)])
    answer()
    unsubscribe()
    await quiet
    return result
  }

  async function roundTrip (): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      nextId = `round-trip-${++draws}`
      client.subscribe({ query: '{ __typename }' }, { next: () => {}, error: reject, complete: resolve })
    })
  }

  it.each(OPERATIONS.map((operation) => [operation.name, operation] as const))('%s', async (_name, operation) => {
    await fc.assert(fc.asyncProperty(operation.args, async (args) => {
      gw.emulator.clearCalls()
      const mayBeSilent = operation.name.startsWith('taskUpdated') && (args.taskId === undefined || args.taskId.value === null)
      const id = `draw-${++draws}`
      const answer = await firstAnswer(id, operation.document, valuesOf(args), mayBeSilent)
      check(gw, operation, args, answer, (requestId) => requestId?.endsWith(`:${id}`) === true)
    }), { numRuns: RUNS })
  })
})
