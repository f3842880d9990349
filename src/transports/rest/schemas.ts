import { z } from 'zod'
import type { TaskOrderField, TaskStatus, TaskType } from '../../contract/types.js'
import { MAX_MODELS, TEXT_LIMITS } from '../../domain/arguments.js'
import { ERROR_CODES } from '../../errors.js'
import { parseDateTime } from '../../domain/date-time.js'

/*
 * The REST door's request schemas (zod): path and query parameters are checked here, before any
 * upstream call, and a bad one is a 400 naming it. Strict objects: an unknown query parameter is a
 * mistake worth telling (a misspelt filter would otherwise silently list everything). The enums are
 * the GraphQL contract's, less UNKNOWN (it stands for values the gateway does not know, and
 * filters on nothing).
 */

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/

export const Id = z.string().regex(UUID, { error: 'must be a Visual Layer id (a UUID such as ad48d250-1232-11f1-bfca-fa39f6ed1f22)' })
  .transform((id) => id.toLowerCase())

/** A point in time read as the DateTime scalar reads it (src/domain/date-time.ts): the same inputs as GraphQL, normalised to UTC with Z. */
const DateTimeParam = z.string().meta({
  description: 'ISO-8601 date or date-time; without a zone it is UTC.',
  examples: ['2026-03-01T14:30:00Z']
}).transform((value, ctx) => {
  try {
    return parseDateTime(value)
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `is invalid: ${(err as Error).message.replace(/\.$/, '')}` })
    return z.NEVER
  }
})

const TASK_TYPES = ['DATASET_CREATION', 'MEDIA_ADDITION', 'REINDEX', 'ENRICHMENT', 'CUSTOM_METADATA', 'SNAPSHOT_RESTORE', 'SNAPSHOT_CLONE'] as const
const TASK_STATUSES = ['INITIALIZING', 'RUNNING', 'COMPLETED', 'FAILED', 'ABORTED'] as const
const ORDER_FIELDS = ['START_TIME', 'STATUS', 'TASK_TYPE', 'DATASET_NAME', 'DATASET_ID', 'CREATED_BY'] as const
// Compile-time proof that the lists above are the contract's values.
const _types: readonly TaskType[] = TASK_TYPES
const _statuses: readonly TaskStatus[] = TASK_STATUSES
const _fields: readonly TaskOrderField[] = ORDER_FIELDS
void [_types, _statuses, _fields]

function integer (min: number, max: number, fallback: number): z.ZodType<number> {
  const range = max === Number.MAX_SAFE_INTEGER ? `an integer of at least ${min}` : `an integer from ${min} to ${max}`
  return z.string().regex(/^\d{1,15}$/, { error: `must be ${range}` }).transform(Number)
    .pipe(z.number().min(min, { error: `must be ${range}` }).max(max, { error: `must be ${range}` }))
    .optional().transform((value) => value ?? fallback)
    // What the document says: an integer in range (a query string's text is parsed above).
    .meta({ type: 'integer', pattern: undefined, minimum: min, ...(max === Number.MAX_SAFE_INTEGER ? {} : { maximum: max }) }) as unknown as z.ZodType<number>
}

const bool = z.enum(['true', 'false'], { error: 'must be true or false' }).transform((value) => value === 'true')
  .meta({ type: 'boolean', enum: undefined })

export const DatasetParams = z.strictObject({ id: Id })

/** Routes that take no query parameters still refuse unknown ones. */
export const NoQuery = z.strictObject({})

export const INCLUDES = ['sourceDataset', 'creationStatus', 'models', 'enrichment'] as const
export type Include = (typeof INCLUDES)[number]

export const DatasetQuery = z.strictObject({
  include: z.string().meta({ description: `Related resources to embed, comma-separated: ${INCLUDES.join(', ')}.`, examples: ['sourceDataset,models'] })
    .optional().transform((value, ctx) => {
      const names = value === undefined || value === '' ? [] : value.split(',').map((name) => name.trim())
      const unknown = names.filter((name) => !(INCLUDES as readonly string[]).includes(name))
      if (unknown.length > 0) {
        ctx.addIssue({ code: 'custom', message: `names ${unknown.map((name) => JSON.stringify(name.slice(0, 40))).join(', ')}; it takes a comma-separated list of ${INCLUDES.join(', ')}` })
        return z.NEVER
      }
      return new Set(names as Include[])
    }),
  live: z.enum(['1', 'true', '0', 'false'], { error: 'must be 1, true, 0 or false' }).transform((value) => value === '1' || value === 'true')
    .meta({ description: '1 (or true): stream the dataset as it changes, as Server-Sent Events (as Accept: text/event-stream does).', type: 'string', enum: ['1', 'true', '0', 'false'] })
    .optional()
})

export const ModelsQuery = z.strictObject({ active: bool.meta({ description: 'true: only the models that can be applied now.' }).optional() })

export const TasksQuery = z.strictObject({
  datasetId: Id.optional(),
  datasetName: z.string().max(TEXT_LIMITS.datasetName, { error: `must be at most ${TEXT_LIMITS.datasetName} characters long` }).optional(),
  type: z.enum(TASK_TYPES, { error: `must be one of ${TASK_TYPES.join(', ')}` }).optional(),
  status: z.enum(TASK_STATUSES, { error: `must be one of ${TASK_STATUSES.join(', ')}` }).optional(),
  createdBy: z.string().max(TEXT_LIMITS.createdBy, { error: `must be at most ${TEXT_LIMITS.createdBy} characters long` }).optional(),
  startTimeFrom: DateTimeParam.optional(),
  startTimeTo: DateTimeParam.optional(),
  orderBy: z.enum(ORDER_FIELDS, { error: `must be one of ${ORDER_FIELDS.join(', ')}` }).optional(),
  direction: z.enum(['ASC', 'DESC'], { error: 'must be ASC or DESC' }).optional(),
  page: integer(1, Number.MAX_SAFE_INTEGER, 1).meta({ description: 'The page, from 1 (default 1).' }),
  pageSize: integer(5, 50, 20).meta({ description: 'Tasks a page, 5 to 50 (default 20).' })
})

export const FilterOptionsQuery = z.strictObject({
  startTimeFrom: DateTimeParam.optional(),
  startTimeTo: DateTimeParam.optional()
})

const WHERE = { path: 'Path parameter', query: 'Query parameter', body: 'Body field', header: 'Header' } as const

/** The first problem of a failed parse, as one sentence naming the parameter, field or header. */
export function describeIssue (where: keyof typeof WHERE, error: z.ZodError, input: unknown, name?: string): string {
  const issue = error.issues[0]
  if (issue === undefined) return `Invalid ${where}.`
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((key) => JSON.stringify(key.slice(0, 40))).join(', ')
    const prefix = issue.path.length === 0 ? '' : ` in ${issue.path.map(String).join('.')}`
    return where === 'body' ? `Unknown body field${issue.keys.length > 1 ? 's' : ''} ${keys}${prefix}.` : `Unknown ${where} parameter${issue.keys.length > 1 ? 's' : ''} ${keys}.`
  }
  const path = name ?? issue.path.map((part, index) => typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`).join('')
  if (where === 'body' && issue.path.length === 0) return 'The body must be a JSON object such as {"models": [{"type": "CAPTION_IMAGES", "modelId": "..."}]}.'
  const key = issue.path[0]
  const given = issue.path.length === 1 && typeof input === 'object' && input !== null ? (input as Record<PropertyKey, unknown>)[key as PropertyKey] : undefined
  let message = issue.message
  if (issue.code === 'invalid_type' && where !== 'body') message = given === undefined ? 'is required' : 'must be given once, as text'
  // zod's own wording ("Invalid input: expected string, received number"), where no schema gave its own.
  if (issue.code === 'invalid_type' && where === 'body' && message.startsWith('Invalid input')) {
    message = message.endsWith('received undefined') ? 'is required' : `must be of type ${issue.expected}`
  }
  return `${WHERE[where]} ${path} ${message}.`
}

/*
 * Response schemas: what the answers hold, in the contract's names and enums. They are not run on
 * each answer (the domain's mapping already makes these shapes); they feed the OpenAPI document,
 * and the tests check every answer they receive against that document.
 */

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

export const TaskParams = z.strictObject({ id: Id })

export const EnrichmentBody = z.strictObject({
  models: z.array(z.strictObject({
    type: z.string().max(TEXT_LIMITS.enrichmentType, { error: `must be at most ${TEXT_LIMITS.enrichmentType} characters long` })
      .meta({ description: 'The enrichment type, e.g. CAPTION_IMAGES.' }),
    modelId: z.string().max(TEXT_LIMITS.modelId, { error: `must be at most ${TEXT_LIMITS.modelId} characters long` })
  }), { error: 'must be a list of {type, modelId}' })
    .min(1, { error: 'is empty: name at least one model as {type, modelId}; GET /v1/datasets/{id}/models lists the ones that can be applied' })
    .max(MAX_MODELS, { error: `names more than ${MAX_MODELS} models` })
}).register(components, { id: 'EnrichmentRequest' })

export const IdempotencyKey = z.string()
  .min(1, { error: `must be 1 to ${TEXT_LIMITS.idempotencyKey} characters long` })
  .max(TEXT_LIMITS.idempotencyKey, { error: `must be 1 to ${TEXT_LIMITS.idempotencyKey} characters long` })
  .meta({ description: 'Repeats with the same key and body answer the first result; the same key with another body is 422.' })

export const Enrichment = z.strictObject({
  enrichedDatasetId: z.string().meta({ description: 'The new dataset that will hold the results: follow its events, or poll it, until READY.' }),
  sourceDatasetId: z.string()
}).register(components, { id: 'Enrichment' })

export const EventsQuery = z.strictObject({
  follow: bool.meta({ description: 'true: keep streaming after READY, PARTIAL INDEX or ERROR, until the client leaves.' }).optional()
})

export const EventStream = z.string().meta({
  description: 'Server-Sent Events: `event: status` with a Dataset as JSON (its id the ETag of that JSON), then `event: complete` after READY, ' +
    'PARTIAL_INDEX or ERROR unless follow=true, or `event: problem` with a Problem. Comments keep the connection alive.'
}).register(components, { id: 'DatasetEventStream' })

export const LiveDatasetStream = z.string().meta({
  description: 'Server-Sent Events (with ?live=1 or Accept: text/event-stream): `event: dataset` with the dataset and its includes as JSON, as the ' +
    'plain GET answers (its id the ETag of that JSON), first as it is now, then each time the dataset changes, until the client leaves; ' +
    '`event: problem` with a Problem on a failure or when the token expires. Comments keep the connection alive.'
}).register(components, { id: 'LiveDatasetStream' })
