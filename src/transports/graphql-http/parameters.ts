import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { specifiedRules, type GraphQLError } from 'graphql'
import type { DocumentLimits } from '../../graphql/document.js'
import { noSubscriptionOverHttp } from '../../graphql/limits.js'
import type { OperationParams } from '../../graphql/pipeline/pipeline.js'
import { readOperation, rejected } from '../../graphql/pipeline/stages.js'
import type { TrustedDocuments } from '../../graphql/trusted-documents.js'
import { repeatedParameter } from '../graphql-parameters.js'

/*
 * The GraphQL over HTTP parameters of a request to /graphql: a POST's JSON body (or its document
 * alone, as application/graphql), a GET's query string. A request that cannot be read as one
 * operation gets a 400 that names its problem (one operation per request, each parameter once, a
 * document present, variables an object), before the pipeline (src/graphql/pipeline) runs it.
 */

/** What a document must pass over HTTP besides graphql's rules; one array, so the document cache knows it. */
export const HTTP_RULES = [...specifiedRules, noSubscriptionOverHttp]

/** A mutation sent by GET: refused with 405, as a GET must change nothing. */
export const GET_MUTATION = 'Operation cannot be performed via a GET request'

const BATCH_REFUSED = 'Batched requests (a JSON array of operations) are not accepted: send one operation per request. ' +
  'Requests on one keep-alive connection cost about as little, and each counts against the rate limit.'
const NO_DOCUMENT = 'The request has no GraphQL document: send it as the "query" parameter (a JSON body {"query": "..."}, ' +
  'or ?query=... on a GET).'
const VARIABLES_NOT_OBJECT = 'The "variables" parameter must be a JSON object mapping each variable name to its value, e.g. {"id": "..."}.'
const EXTENSIONS_NOT_OBJECT = 'The "extensions" parameter must be a JSON object, e.g. {"persistedQuery": {...}}.'

/** The routes' schemas: Fastify checks the types of a POST's parameters (and reads a GET's as text). */
const REQUEST = { query: { type: 'string' }, operationName: { type: ['string', 'null'] }, documentId: { type: 'string' } }
export const POST_SCHEMA = { body: { type: 'object', properties: { ...REQUEST, variables: { type: ['object', 'null'] }, extensions: { type: 'object' } } } }
export const GET_SCHEMA = { querystring: { type: 'object', properties: { ...REQUEST, variables: { type: 'string' }, extensions: { type: 'string' } } } }

/** Whether the request reads its parameters from the query string: a GET, or the HEAD Fastify serves with the GET route. */
export function byQueryString (request: FastifyRequest): boolean {
  return request.method === 'GET' || request.method === 'HEAD'
}

type Refuse = (request: FastifyRequest, reply: FastifyReply, errors: readonly GraphQLError[]) => Promise<FastifyReply>

/** The checks made before the route's schema coerces a parameter (a number or a list would become a string and run). */
export function registerParameterChecks (app: FastifyInstance, limits: DocumentLimits, refuse: Refuse): void {
  app.addHook('preValidation', async (request, reply) => {
    if (Array.isArray(request.body)) return await refuse(request, reply, [rejected(BATCH_REFUSED)])
    if (byQueryString(request)) {
      const repeated = repeatedParameter(request.query)
      if (repeated !== null) return await refuse(request, reply, [rejected(repeated)])
      return
    }
    const body = request.body
    if (typeof body !== 'object' || body === null) return
    const params = body as { query?: unknown, extensions?: unknown, variables?: unknown }
    // GraphQL over HTTP lets a client send "extensions": null, as it may send variables or operationName null.
    if (params.extensions === null) delete params.extensions
    // The route's schema would turn 0 and false into null, and run the operation as if none were sent.
    if (params.variables !== undefined && params.variables !== null && (typeof params.variables !== 'object' || Array.isArray(params.variables))) {
      return await refuse(request, reply, [rejected(VARIABLES_NOT_OBJECT)])
    }
    const source = params.query
    if (source === undefined || source === null || typeof source === 'string') return
    // Not text: refused as the document reader refuses it (src/graphql/document.ts), before anything reads it as one.
    return await refuse(request, reply, (await readOperation(null, app.graph.schema, source, limits, [])).errors ?? [])
  })
}

/** The operation a request names (a document id replaced by its text when it has one), or why it cannot be read. */
export type Read = { params: OperationParams, text: unknown, refusal?: undefined } | { params?: undefined, text?: undefined, refusal: string }

/** The request's operation parameters, read once its caller is known (a caller without a token learns only that it needs one). */
export function readParameters (request: FastifyRequest, trusted: TrustedDocuments): Read {
  const get = byQueryString(request) ? (request.query ?? {}) as Record<string, string | undefined> : null
  const body = typeof request.body === 'object' && request.body !== null ? request.body as OperationParams : {}
  // A GET's extensions may hold a document id (persistedQuery); malformed, they are refused below, once the document is known.
  const extensions = get === null ? undefined : jsonObject(get.extensions)
  const params: OperationParams = get === null
    ? body
    : { query: get.query, documentId: get.documentId, extensions: extensions === false ? undefined : extensions }
  const resolution = trusted.resolve(params)
  // A document id the manifest refuses: the pipeline's first stage answers why.
  if (resolution.refused !== undefined) return { params, text: undefined }
  if (resolution.query === undefined || resolution.query === null || resolution.query === '') return { refusal: NO_DOCUMENT }
  if (get === null) return { params, text: resolution.query }
  const variables = jsonObject(get.variables)
  if (variables === false) return { refusal: VARIABLES_NOT_OBJECT }
  if (extensions === false) return { refusal: EXTENSIONS_NOT_OBJECT }
  return { params: { ...params, operationName: get.operationName, variables }, text: resolution.query }
}

/** A JSON object's text read (undefined when absent, empty or null), or false when it is not one. */
function jsonObject (text: string | undefined): Record<string, unknown> | undefined | false {
  if (text === undefined || text === '') return undefined
  try {
    const value: unknown = JSON.parse(text)
    if (value === null) return undefined
    return typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : false
  } catch {
    return false
  }
}
