import { z } from 'zod'
import type { TaskStatus, TaskType } from '../../contract/types.js'
import { MAX_MODELS, TEXT_LIMITS } from '../../domain/arguments.js'
import { ERROR_CODES } from '../../errors.js'

/*
 * The OpenAPI document's named schemas (its components): what the answers hold, in the contract's
 * names and enums, and the enrichment request's body. The answers' schemas are not run on each answer
 * (the domain's mapping already makes these shapes); they feed the document, and the tests check every
 * answer they receive against it. Registration order is the order of the document's components.
 * Webhooks' named schemas are in webhooks-schemas.ts; path and query parameters in schemas.ts.
 */

/** The contract's task types and statuses, less UNKNOWN (which filters on nothing: schemas.ts refuses it in a query). */
export const TASK_TYPES = ['DATASET_CREATION', 'MEDIA_ADDITION', 'REINDEX', 'ENRICHMENT', 'CUSTOM_METADATA', 'SNAPSHOT_RESTORE', 'SNAPSHOT_CLONE'] as const
export const TASK_STATUSES = ['INITIALIZING', 'RUNNING', 'COMPLETED', 'FAILED', 'ABORTED'] as const
// Compile-time proof that the lists above are the contract's values.
const _types: readonly TaskType[] = TASK_TYPES
const _statuses: readonly TaskStatus[] = TASK_STATUSES
void [_types, _statuses]

/** Named schemas: the document's components, referenced by `$ref` wherever they appear. */
export const components = z.registry<{ id: string, description?: string }>()

const DateTimeOut = z.string().meta({ format: 'date-time', description: 'ISO-8601 in UTC with a Z suffix, e.g. 2026-03-01T14:30:00Z.' })
const DATASET_STATUSES = ['DRAFT', 'INDEXING', 'READ_ONLY', 'PARTIAL_INDEX', 'READY', 'ERROR', 'UNKNOWN'] as const
const DatasetStatus = z.enum(DATASET_STATUSES)
  .register(components, { id: 'DatasetStatus', description: 'UNKNOWN stands for a value this gateway does not know yet.' })

const datasetFields = {
  id: z.string(),
  displayName: z.string(),
  description: z.string().nullable(),
  sourceType: z.string().nullable(),
  ownedBy: z.string().nullable(),
  createdAt: DateTimeOut.nullable(),
  status: DatasetStatus,
  progress: z.int().meta({ description: 'Processing progress, 0 to 100.' }),
  imageCount: z.int(),
  videoCount: z.int(),
  objectCount: z.int(),
  errorMessage: z.string().nullable(),
  isReady: z.boolean(),
  sourceDatasetId: z.string().nullable().meta({ description: 'For an enriched copy, the id of the dataset it was made from.' })
}

export const CreationStatus = z.strictObject({ status: DatasetStatus, progress: z.int() }).register(components, { id: 'CreationStatus' })

export const Model = z.strictObject({
  id: z.string(),
  name: z.string(),
  type: z.string(),
  status: z.enum(['ACTIVE', 'COMING_SOON', 'UNKNOWN']),
  vendor: z.string().nullable(),
  description: z.string().nullable(),
  dependencies: z.array(z.string()),
  isActive: z.boolean()
}).register(components, { id: 'Model' })

export const EnrichmentContext = z.strictObject({
  id: z.string(),
  status: z.string(),
  applied: z.array(z.strictObject({ type: z.string(), modelId: z.string() }))
}).register(components, { id: 'EnrichmentContext' })

export const Dataset = z.strictObject(datasetFields).register(components, { id: 'Dataset' })

export const DatasetWithIncludes = z.strictObject({
  ...datasetFields,
  sourceDataset: Dataset.nullable().optional(),
  creationStatus: CreationStatus.nullable().optional(),
  models: z.array(Model).optional(),
  enrichment: EnrichmentContext.optional()
}).register(components, { id: 'DatasetWithIncludes', description: 'A dataset, with the related resources ?include named.' })

export const DatasetList = z.strictObject({ nodes: z.array(Dataset) }).register(components, { id: 'DatasetList' })
export const ModelList = z.strictObject({ nodes: z.array(Model) }).register(components, { id: 'ModelList' })

export const Task = z.strictObject({
  id: z.string(),
  type: z.enum([...TASK_TYPES, 'UNKNOWN']),
  status: z.enum([...TASK_STATUSES, 'UNKNOWN']),
  statusMessage: z.string().nullable(),
  progress: z.int().nullable(),
  errorMessage: z.string().nullable(),
  createdBy: z.string().nullable(),
  startTime: DateTimeOut.nullable(),
  endTime: DateTimeOut.nullable(),
  datasetId: z.string(),
  datasetName: z.string().nullable(),
  datasetStatus: DatasetStatus.nullable(),
  canAbort: z.boolean(),
  canRetry: z.boolean()
}).register(components, { id: 'Task' })

export const TaskPage = z.strictObject({
  nodes: z.array(Task),
  total: z.int(),
  page: z.int(),
  pageSize: z.int(),
  hasNextPage: z.boolean()
}).register(components, { id: 'TaskPage' })

export const TaskFilterOptions = z.strictObject({
  datasetNames: z.array(z.string()),
  datasetIds: z.array(z.string()),
  taskTypes: z.array(z.string()),
  createdBy: z.array(z.string())
}).register(components, { id: 'TaskFilterOptions' })

export const Problem = z.strictObject({
  type: z.string(),
  title: z.string(),
  status: z.int(),
  detail: z.string(),
  code: z.enum(ERROR_CODES),
  requestId: z.string()
}).register(components, { id: 'Problem', description: 'RFC 9457 problem details, with the gateway\'s error code and the request id.' })

export const OpenApiDocument = z.looseObject({ openapi: z.literal('3.1.0'), paths: z.record(z.string(), z.unknown()) })
  .register(components, { id: 'OpenApiDocument', description: 'An OpenAPI 3.1 document.' })

export const EnrichmentBody = z.strictObject({
  models: z.array(z.strictObject({
    type: z.string().max(TEXT_LIMITS.enrichmentType, { error: `must be at most ${TEXT_LIMITS.enrichmentType} characters long` })
      .meta({ description: 'The enrichment type, e.g. CAPTION_IMAGES.' }),
    modelId: z.string().max(TEXT_LIMITS.modelId, { error: `must be at most ${TEXT_LIMITS.modelId} characters long` })
  }), { error: 'must be a list of {type, modelId}' })
    .min(1, { error: 'is empty: name at least one model as {type, modelId}; GET /v1/datasets/{id}/models lists the ones that can be applied' })
    .max(MAX_MODELS, { error: `names more than ${MAX_MODELS} models` })
}).register(components, { id: 'EnrichmentRequest' })

export const Enrichment = z.strictObject({
  enrichedDatasetId: z.string().meta({ description: 'The new dataset that will hold the results: follow its events, or poll it, until READY.' }),
  sourceDatasetId: z.string()
}).register(components, { id: 'Enrichment' })

export const EventStream = z.string().meta({
  description: 'Server-Sent Events: `event: status` with a Dataset as JSON (its id the ETag of that JSON), then `event: complete` after READY, ' +
    'PARTIAL_INDEX or ERROR unless follow=true, or `event: problem` with a Problem. Comments keep the connection alive.'
}).register(components, { id: 'DatasetEventStream' })

export const LiveDatasetStream = z.string().meta({
  description: 'Server-Sent Events (with ?live=1 or Accept: text/event-stream): `event: dataset` with the dataset and its includes as JSON, as the ' +
    'plain GET answers (its id the ETag of that JSON), first as it is now, then each time the dataset changes, until the client leaves; ' +
    '`event: problem` with a Problem on a failure or when the token expires. Comments keep the connection alive.'
}).register(components, { id: 'LiveDatasetStream' })
