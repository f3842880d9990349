import { z } from 'zod'
import { components, Problem } from './document-schemas.js'

/*
 * The OpenAPI 3.1 document of /v1, generated from the zod schemas that check the requests
 * (parameters) and describe the answers (components), with zod's own JSON Schema conversion
 * (draft 2020-12, which OpenAPI 3.1 uses as it is). Each route of plugin.ts declares itself as an
 * `RestOperation`; nothing here is written beside the schemas by hand.
 */

type Schema = z.ZodType

export interface RestOperation {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE'
  /** Fastify's form, under /v1: `/datasets/:id`. */
  url: string
  operationId: string
  summary: string
  tags: string[]
  params?: z.ZodObject
  query?: z.ZodObject
  /** A JSON body (a registered component). */
  body?: z.ZodObject
  /** Request headers the operation reads, by name. */
  headers?: Record<string, z.ZodType>
  /** The success status and the component it answers with. */
  success: { status: number, schema: Schema, description: string, headers?: Record<string, string>, mediaType?: string, alternatives?: Record<string, Schema> }
  /** Problem statuses this operation may answer besides 400, 401, 429 and upstream failures. */
  problems?: number[]
}

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'A malformed id or parameter (named in `detail`); nothing was sent to Visual Layer.',
  401: 'No valid Bearer token.',
  404: 'Not found, or not visible to this caller.',
  409: 'The action conflicts with the resource\'s state.',
  415: 'The body is not application/json.',
  422: 'The Idempotency-Key was used with another body.',
  501: 'Not available in this AUTH_MODE (webhooks in passthrough): `detail` says why.',
  429: 'Over the rate limit; see Retry-After.',
  502: 'Visual Layer failed, or broke its contract.',
  503: 'Visual Layer is unavailable (for a request with an Idempotency-Key, also: the idempotency store the replicas share is; for webhooks, the webhook store is).',
  504: 'Visual Layer did not answer in time.'
}

/** A parameter's JSON Schema: the shape it accepts (zod's input side), without the meta keywords. */
function parameterSchema (schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...json } = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>
  return json
}

function parameters (where: 'path' | 'query', object: z.ZodObject | undefined): unknown[] {
  if (object === undefined) return []
  return Object.entries(object.shape).map(([name, schema]) => {
    const json = parameterSchema(schema as z.ZodType)
    const { description, examples, ...rest } = json
    return {
      name,
      in: where,
      required: where === 'path' || !(schema as z.ZodType).safeParse(undefined).success,
      ...(typeof description === 'string' ? { description } : {}),
      ...(Array.isArray(examples) ? { example: examples[0] } : {}),
      schema: rest
    }
  })
}

function headerParameters (headers: Record<string, z.ZodType> = {}): unknown[] {
  return Object.entries(headers).map(([name, schema]) => {
    const { description, ...rest } = parameterSchema(schema)
    return { name, in: 'header', required: !schema.safeParse(undefined).success, ...(typeof description === 'string' ? { description } : {}), schema: rest }
  })
}

const ref = (schema: Schema): { $ref: string } => {
  const id = components.get(schema)?.id
  if (id === undefined) throw new Error('a response schema must be a registered component')
  return { $ref: `#/components/schemas/${id}` }
}

const problem = (description: string): unknown => ({ description, content: { 'application/problem+json': { schema: ref(Problem) } } })

export function openApiDocument (operations: readonly RestOperation[]): Record<string, unknown> {
  const uri = (id: string): string => `#/components/schemas/${id}`
  const converted = z.toJSONSchema(components, { target: 'draft-2020-12', uri }) as { schemas: Record<string, Record<string, unknown>> }
  const schemas = Object.fromEntries(Object.entries(converted.schemas).map(([id, { $schema: _, $id: __, ...schema }]) => [id, schema]))
  const paths: Record<string, Record<string, unknown>> = {}
  for (const operation of operations) {
    const path = `/v1${operation.url.replace(/:(\w+)/g, '{$1}')}`
    const statuses = [...new Set([400, 401, 429, ...(operation.problems ?? []), 502, 503, 504])].sort((a, b) => a - b)
    const headers = Object.fromEntries(Object.entries(operation.success.headers ?? {})
      .map(([name, description]) => [name, { description, schema: { type: 'string' } }]))
    // ETags are for JSON representations, not for event streams.
    const get = operation.method === 'GET' && operation.success.mediaType === undefined
    if (get) {
      headers.ETag = { description: 'The representation\'s entity tag: send it back in If-None-Match.', schema: { type: 'string' } }
      headers['Cache-Control'] = { description: 'private, no-cache', schema: { type: 'string' } }
    }
    const responses: Record<string, unknown> = {
      [operation.success.status]: {
        description: operation.success.description,
        ...(Object.keys(headers).length > 0 ? { headers } : {}),
        ...(operation.success.status === 204
          ? {}
          : {
              content: {
                [operation.success.mediaType ?? 'application/json']: { schema: ref(operation.success.schema) },
                // Other media types the same success may answer with (a live resource's event stream).
                ...Object.fromEntries(Object.entries(operation.success.alternatives ?? {}).map(([type, schema]) => [type, { schema: ref(schema) }]))
              }
            })
      },
      ...(get ? { 304: { description: 'Not modified: If-None-Match named the current ETag.' } } : {}),
      ...Object.fromEntries(statuses.map((status) => [status, problem(PROBLEM_DESCRIPTIONS[status] ?? 'Error')]))
    }
    const ifNoneMatch = get ? [{ name: 'If-None-Match', in: 'header', required: false, schema: { type: 'string' }, description: 'ETags the client has.' }] : []
    paths[path] ??= {}
    paths[path][operation.method.toLowerCase()] = {
      operationId: operation.operationId,
      summary: operation.summary,
      tags: operation.tags,
      parameters: [...parameters('path', operation.params), ...parameters('query', operation.query), ...headerParameters(operation.headers), ...ifNoneMatch],
      ...(operation.body === undefined ? {} : { requestBody: { required: true, content: { 'application/json': { schema: ref(operation.body) } } } }),
      responses
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Visual Layer gateway REST API',
      version: '1.0.0',
      description: 'Datasets and tasks of Visual Layer for partner services, over the same rules as the gateway\'s GraphQL API. ' +
        'Errors are application/problem+json (RFC 9457) with the gateway\'s `code` and `requestId`.'
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      schemas,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'As for /graphql: depends on the gateway\'s AUTH_MODE (none: no token needed).' } }
    }
  }
}
