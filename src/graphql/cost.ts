import { getOperationAST, GraphQLError, type DocumentNode, type GraphQLSchema } from 'graphql'
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity'
import { taskListParams, type TaskPageArgs } from '../domain/arguments.js'
import { GatewayError, isGatewayError } from '../errors.js'

/*
 * What an operation may cost Visual Layer, computed before it runs: the cost rules of schema.graphql's
 * fields, and the check that refuses a document over MAX_QUERY_COST. graphql-query-complexity walks
 * the document (fragments, @skip/@include, variables); the rules are this table, beside the schema,
 * and test/graphql/cost.test.ts fails when a field that can reach Visual Layer has no entry.
 *
 * A field costs the calls it sends, plus what its selection costs once per item it returns. That is
 * the worst case: per-request loaders often share a read (a task page's datasets are fetched once
 * each), and MAX_UPSTREAM_CALLS_PER_OPERATION still stops, at run time, what slips through.
 */

export type Args = Record<string, unknown>

export interface FieldCost {
  /** Visual Layer requests the field itself sends. */
  readonly calls: number | ((args: Args) => number)
  /** How many times its selection is resolved (a list's length); 1 when absent. */
  readonly items?: number | ((args: Args) => number)
}

/** Visual Layer's task list serves 5 to 50 tasks a page; a pageSize outside is refused before any call. */
const MAX_PAGE_SIZE = 50

/**
 * `GET /api/v1/datasets` has no pagination: the dataset list is counted as 50 datasets. An account with
 * more still gets its whole list; the call budget bounds what its nested fields send.
 */
export const DATASET_LIST_ITEMS = 50

const pageSize = (args: Args): number => Math.min(Math.max(Number(args.pageSize) || 0, 0), MAX_PAGE_SIZE)
const idCount = (args: Args): number => Array.isArray(args.ids) ? args.ids.length : 0

/** Keyed by `Type.field`. Scalar and enum fields read what their parent fetched and cost nothing. */
export const FIELD_COSTS: Readonly<Record<string, FieldCost>> = {
  'Query.dataset': { calls: 1 },
  'Query.datasetsByIds': { calls: idCount, items: idCount },
  'Query.datasets': { calls: 1, items: DATASET_LIST_ITEMS },
  'Query.tasks': { calls: 1, items: pageSize },
  'Query.taskFilterOptions': { calls: 1 },
  // Pre-flight reads of the dataset, its models and its enrichment context, then the POST.
  'Mutation.enrichDataset': { calls: 4 },
  'Mutation.abortTask': { calls: 1 },
  'Mutation.retryTask': { calls: 1 },
  // Each event: the poller's read (shared by every subscriber), then the event's own selection.
  'Subscription.datasetStatusChanged': { calls: 1 },
  'Subscription.taskUpdated': { calls: 1 },
  'Dataset.sourceDataset': { calls: 1 },
  'Dataset.creationStatus': { calls: 1 },
  'Dataset.models': { calls: 1 },
  'Dataset.enrichment': { calls: 1 },
  'Dataset.tasks': { calls: 1, items: pageSize },
  // Every applied enrichment's model comes from its dataset's one model list (a per-request loader).
  'EnrichmentContext.applied': { calls: 0, items: 1 },
  'AppliedEnrichment.model': { calls: 1 },
  'EnrichDatasetPayload.enrichedDataset': { calls: 1 },
  'EnrichDatasetPayload.sourceDataset': { calls: 1 },
  'Task.dataset': { calls: 1 },
  // As many tasks as the pageSize of the field that returned the page, counted there.
  'TaskPage.nodes': { calls: 0, items: 1 }
}

const valueOf = (rule: number | ((args: Args) => number) | undefined, args: Args): number =>
  rule === undefined ? 1 : typeof rule === 'number' ? rule : rule(args)

/**
 * The argument rules of fields that are never at the root, checked in the same walk: the resolver of
 * a nested field sees its arguments only once its parent has been read from Visual Layer, so a bad
 * `Dataset.tasks(pageSize: 51)` would cost that read. Root fields check their own before any call.
 */
export const NESTED_ARGUMENT_CHECKS: Readonly<Record<string, (args: Args) => void>> = {
  // The parent's id is the dataset's own, valid by then: any id stands for it here.
  'Dataset.tasks': (args) => { taskListParams(args as unknown as TaskPageArgs, '00000000-0000-0000-0000-000000000000') }
}

/** The walk's findings: the worst-case cost, and the first nested argument its rule refused. */
export interface OperationCheck {
  /** Null when it cannot be told: variables that do not coerce, or no operation to run (execution refuses it next). */
  readonly cost: number | null
  readonly invalid: GatewayError | null
}

/**
 * Walks the operation once, as graphql-query-complexity does (fragments, @skip/@include, variables):
 * its cost by FIELD_COSTS, and its nested arguments by NESTED_ARGUMENT_CHECKS. Run only on documents
 * that passed the limits (fields, depth), which bound the walk.
 */
export function checkOperation (schema: GraphQLSchema, document: DocumentNode, variables: unknown, operationName: unknown): OperationCheck {
  if (getOperationAST(document, typeof operationName === 'string' ? operationName : undefined) === null) return { cost: null, invalid: null }
  let invalid: GatewayError | null = null
  const estimator: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
    const key = `${type.name}.${field.name}`
    const check = NESTED_ARGUMENT_CHECKS[key]
    if (check !== undefined && invalid === null) {
      try {
        check(args)
      } catch (err) {
        if (!isGatewayError(err)) throw err
        invalid = err
      }
    }
    const rule = FIELD_COSTS[key]
    if (rule === undefined) return childComplexity
    return valueOf(rule.calls, args) + valueOf(rule.items, args) * childComplexity
  }
  try {
    const cost = getComplexity({
      schema,
      query: document,
      estimators: [estimator],
      variables: typeof variables === 'object' && variables !== null ? variables as Args : {},
      operationName: typeof operationName === 'string' ? operationName : undefined
    })
    return { cost, invalid }
  } catch {
    return { cost: null, invalid: null }
  }
}

/** The most Visual Layer calls the operation may send, or null when it cannot be told (see checkOperation). */
export function operationCost (schema: GraphQLSchema, document: DocumentNode, variables: unknown, operationName: unknown): number | null {
  return checkOperation(schema, document, variables, operationName).cost
}

/** QUERY_REJECTED naming the cost and the limit. */
export function costRefusal (cost: number, maxCost: number): GraphQLError {
  const message = `The operation could cost up to ${cost} Visual Layer calls, more than the ${maxCost} this gateway accepts. ` +
    'Ask for fewer items (pageSize, ids) or fewer nested fields, or split it into several requests.'
  return new GraphQLError(message, { originalError: new GatewayError('QUERY_REJECTED', message) })
}
