import { z } from 'zod'
import type { TaskOrderField } from '../../contract/types.js'
import { TEXT_LIMITS } from '../../domain/arguments.js'
import { parseDateTime } from '../../domain/date-time.js'
import { TASK_STATUSES, TASK_TYPES } from './document-schemas.js'

/*
 * The REST door's request schemas (zod): path and query parameters are checked here, before any
 * upstream call, and a bad one is a 400 naming it. Strict objects: an unknown query parameter is a
 * mistake worth telling (a misspelt filter would otherwise silently list everything). The enums are
 * the GraphQL contract's, less UNKNOWN (it stands for values the gateway does not know, and
 * filters on nothing). The bodies and answers, named in the OpenAPI document, are in
 * document-schemas.ts (webhooks' in webhooks-schemas.ts).
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

const ORDER_FIELDS = ['START_TIME', 'STATUS', 'TASK_TYPE', 'DATASET_NAME', 'DATASET_ID', 'CREATED_BY'] as const
// Compile-time proof that the list above is the contract's values.
const _fields: readonly TaskOrderField[] = ORDER_FIELDS
void _fields

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

export const TaskParams = z.strictObject({ id: Id })

export const IdempotencyKey = z.string()
  .min(1, { error: `must be 1 to ${TEXT_LIMITS.idempotencyKey} characters long` })
  .max(TEXT_LIMITS.idempotencyKey, { error: `must be 1 to ${TEXT_LIMITS.idempotencyKey} characters long` })
  .meta({ description: 'Repeats with the same key and body answer the first result; the same key with another body is 422.' })

export const EventsQuery = z.strictObject({
  follow: bool.meta({ description: 'true: keep streaming after READY, PARTIAL INDEX or ERROR, until the client leaves.' }).optional()
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
