import { getOperationAST, GraphQLError, type DocumentNode, type GraphQLSchema } from 'graphql'
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity'
import { GatewayError } from '../errors.js'

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

type Args = Record<string, unknown>

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

const estimator: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
  const rule = FIELD_COSTS[`${type.name}.${field.name}`]
  // Scalars, enums and introspection: nothing of their own, nothing below that calls Visual Layer.
  if (rule === undefined) return childComplexity
  return valueOf(rule.calls, args) + valueOf(rule.items, args) * childComplexity
}

/**
 * The most Visual Layer calls the operation may send, or null when it cannot be told: variables that
 * do not coerce or an operation that cannot be chosen, which execution refuses next, with no call.
 * Run only on documents that passed the limits (fields, depth), which bound the walk.
 */
export function operationCost (schema: GraphQLSchema, document: DocumentNode, variables: unknown, operationName: unknown): number | null {
  if (getOperationAST(document, typeof operationName === 'string' ? operationName : undefined) === null) return null
  try {
    return getComplexity({
      schema,
      query: document,
      estimators: [estimator],
      variables: typeof variables === 'object' && variables !== null ? variables as Args : {},
      operationName: typeof operationName === 'string' ? operationName : undefined
    })
  } catch {
    return null
  }
}

/** QUERY_REJECTED naming the cost and the limit. */
export function costRefusal (cost: number, maxCost: number): GraphQLError {
  const message = `The operation could cost up to ${cost} Visual Layer calls, more than the ${maxCost} this gateway accepts. ` +
    'Ask for fewer items (pageSize, ids) or fewer nested fields, or split it into several requests.'
  return new GraphQLError(message, { originalError: new GatewayError('QUERY_REJECTED', message) })
}
