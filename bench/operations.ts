/**
 * The operations `npm run bench` measures, and how each server is asked for them: GraphQL over HTTP
 * (yoga, Apollo, the gateway) or the floor's plain routes. Two of them make every request different,
 * so that no sharing between requests in flight can help (issue 27):
 *
 * - `taskPageSizes`: one document, the task page with a page size of its own per request (variables
 *   `{ pageSize }` from 5 to 50 in turn);
 * - `distinctIds`: `dataset(id)` with every request its own id, one of the emulator's extra datasets
 *   (EMULATOR_EXTRA_DATASETS, ids extraDatasetId(i)), in turn.
 */
import { extraDatasetId, SEED } from '../src/emulator/index.js'

/** `before`: the gateway built before a change (BENCH_GATEWAY_BEFORE), measured in the same run. */
export type ServerName = 'floor' | 'yoga' | 'apollo' | 'gateway' | 'before'
export type OperationName = 'dataset' | 'taskPage' | 'taskPageSizes' | 'distinctIds'
export const OPERATIONS: OperationName[] = ['dataset', 'taskPage', 'taskPageSizes', 'distinctIds']
export const OPERATION_TITLES: Record<OperationName, string> = {
  dataset: 'dataset(id), every request the same',
  taskPage: '50 tasks with their dataset\'s name',
  taskPageSizes: 'the task page with a page size of its own per request (5 to 50, one document)',
  distinctIds: 'dataset(id), every request its own id'
}

/** How many extra datasets the emulator seeds for `distinctIds`: far more than the connections in flight. */
export const EXTRA_DATASETS = 10_000
const DISTINCT_IDS = Array.from({ length: EXTRA_DATASETS }, (_, index) => extraDatasetId(index))
const PAGE_SIZES = Array.from({ length: 46 }, (_, index) => 5 + index)

const DATASET_SELECTION = 'id displayName status progress imageCount videoCount createdAt isReady'
const DATASET_QUERY = `query Dataset($id: ID!) { dataset(id: $id) { ${DATASET_SELECTION} } }`
const TASK_SELECTION = 'total nodes { id type status progress startTime dataset { id displayName } }'
const TASK_PAGE_QUERY = `query TaskPage($pageSize: Int!) { tasks(pageSize: $pageSize) { ${TASK_SELECTION} } }`

export const QUERIES = {
  dataset: { query: DATASET_QUERY, variables: { id: SEED.datasets.ready } },
  taskPage: { query: `{ tasks(pageSize: 50) { ${TASK_SELECTION} } }` },
  taskPageSizes: { query: TASK_PAGE_QUERY, variables: { pageSize: '5 to 50, in turn' } },
  distinctIds: { query: DATASET_QUERY, variables: { id: `extraDatasetId(0 to ${EXTRA_DATASETS - 1}), in turn` } }
}

export interface HttpCall {
  method: 'GET' | 'POST'
  path: string
  body?: string
  /** Every request takes the next of these paths (or bodies), in turn; `path`/`body` is the first. */
  paths?: string[]
  bodies?: string[]
}

const graphql = (bodies: string[]): HttpCall => ({ method: 'POST', path: '/graphql', body: bodies[0], ...(bodies.length > 1 ? { bodies } : {}) })
const floor = (paths: string[]): HttpCall => ({ method: 'GET', path: paths[0] as string, ...(paths.length > 1 ? { paths } : {}) })

export function callOf (server: ServerName, operation: OperationName): HttpCall {
  switch (operation) {
    case 'dataset':
      return server === 'floor' ? floor([`/dataset/${SEED.datasets.ready}`]) : graphql([JSON.stringify(QUERIES.dataset)])
    case 'taskPage':
      return server === 'floor' ? floor(['/task-page']) : graphql([JSON.stringify(QUERIES.taskPage)])
    case 'taskPageSizes':
      return server === 'floor'
        ? floor(PAGE_SIZES.map((size) => `/task-page?pageSize=${size}`))
        : graphql(PAGE_SIZES.map((pageSize) => JSON.stringify({ query: TASK_PAGE_QUERY, variables: { pageSize } })))
    case 'distinctIds':
      return server === 'floor'
        ? floor(DISTINCT_IDS.map((id) => `/dataset/${id}`))
        : graphql(DISTINCT_IDS.map((id) => JSON.stringify({ query: DATASET_QUERY, variables: { id } })))
  }
}

/** The calls whose answers every server must give alike before the load: the first, and for a varying operation a few more. */
export function sampleCalls (server: ServerName, operation: OperationName): HttpCall[] {
  const call = callOf(server, operation)
  const at = [0, 7, 45, 4_321]
  const { paths, bodies } = call
  if (paths !== undefined) return at.filter((i) => i < paths.length).map((i) => ({ method: call.method, path: paths[i] as string }))
  if (bodies !== undefined) return at.filter((i) => i < bodies.length).map((i) => ({ method: call.method, path: call.path, body: bodies[i] }))
  return [call]
}
