import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { specifiedRules, type DocumentNode, type GraphQLError, type GraphQLSchema, type OperationTypeNode } from 'graphql'
import { GatewayError } from '../../errors.js'
import type { DocumentLimits } from '../../graphql/document.js'
import { formatError, type FormatOptions } from '../../graphql/error-formatter.js'
import { noSubscriptionOverHttp } from '../../graphql/limits.js'
import { operationProblem, operationType, readOperation, rejected } from '../../graphql/pipeline/stages.js'
import type { TrustedDocuments } from '../../graphql/trusted-documents.js'
import { paramsOf, repeatedParameter } from '../graphql-parameters.js'

/*
 * HTTP documents pass the gateway's limits (src/graphql/document.ts) before Mercurius sees them:
 * Mercurius would parse with no memory of the limits, and read a text that is not GraphQL as a JSON
 * syntax tree, which no token limit bounds. The request around the document is checked here too
 * (one operation per request, a document present, variables an object, an operation to run), so
 * that each malformed request gets a 400 that names its problem and an info log line, never an
 * internal error. Registered inside the graphql-http plugin: its routes only. A document that passes
 * leaves its operation's type on the request, for the rate limit. A trusted document's id
 * (`documentId`, or `extensions.persistedQuery`) is replaced by its text first, so that the
 * authentication's introspection check, these checks, the cost and Mercurius all read the text.
 *
 * The whole validation (graphql's rules, then the HTTP door's own) is done here too, once per document
 * text (the document cache remembers what passed): only valid documents reach Mercurius, whose cache of
 * parsed documents then never holds a refused one.
 */

/** What a document must pass over HTTP besides the gateway's limits; one array, so the cache knows it. */
const HTTP_RULES = [...specifiedRules, noSubscriptionOverHttp]

declare module 'fastify' {
  interface FastifyRequest {
    /** The type of the operation the request runs, once its document passed the checks; null before, or when none is chosen. */
    operationType: OperationTypeNode | null
    /** The document the request runs, once it passed the checks. */
    operationDocument: DocumentNode | null
  }
}

const BATCH_REFUSED = 'Batched requests (a JSON array of operations) are not accepted: send one operation per request. ' +
  'Requests on one keep-alive connection cost about as little, and each counts against the rate limit.'
const NO_DOCUMENT = 'The request has no GraphQL document: send it as the "query" parameter (a JSON body {"query": "..."}, ' +
  'or ?query=... on a GET).'
const VARIABLES_NOT_OBJECT = 'The "variables" parameter must be a JSON object mapping each variable name to its value, e.g. {"id": "..."}.'

export function registerDocumentChecks (
  app: FastifyInstance,
  schema: GraphQLSchema,
  limits: DocumentLimits,
  trusted: TrustedDocuments,
  formatting: FormatOptions,
  callerOf: (request: FastifyRequest) => string
): void {
  app.decorateRequest('operationType', null)
  app.decorateRequest('operationDocument', null)
  app.decorateRequest('documentRefusal', null)
  const refuse = (request: FastifyRequest, reply: FastifyReply, errors: readonly GraphQLError[]): FastifyReply => {
    // Logged once, as the operation's line (src/plugins/operations.ts), at info with the reason.
    const requestId = String(request.id)
    // Too many new documents waiting to be read for this caller (src/graphql/read-turns.ts): a rate limit.
    const limited = errors.some((error) => error.originalError instanceof GatewayError && error.originalError.code === 'RATE_LIMITED')
    return reply.code(limited ? 429 : 400).send({ data: null, errors: errors.map((error) => formatError(error, requestId, request.log, formatting)) })
  }

  // Before the route's schema coerces it: a number or a list would become a string and run.
  app.addHook('preValidation', async (request, reply) => {
    if (Array.isArray(request.body)) return refuse(request, reply, [rejected(BATCH_REFUSED)])
    if (request.method === 'GET') {
      const repeated = repeatedParameter(request.query)
      if (repeated !== null) return refuse(request, reply, [rejected(repeated)])
    }
    // GraphQL over HTTP lets a client send "extensions": null, as it may send variables or operationName null.
    const body = request.body as { extensions?: unknown, variables?: unknown } | undefined
    if (typeof body === 'object' && body !== null) {
      if (body.extensions === null) delete body.extensions
      // The route's schema would turn 0 and false into null, and run the operation as if none were sent.
      if (body.variables !== undefined && body.variables !== null && (typeof body.variables !== 'object' || Array.isArray(body.variables))) {
        return refuse(request, reply, [rejected(VARIABLES_NOT_OBJECT)])
      }
    }
    const resolution = trusted.resolve(paramsOf(request))
    if (resolution.refused !== undefined) {
      request.documentRefusal = resolution.refused
      return
    }
    if (typeof resolution.query === 'string' && resolution.query !== queryOf(request)) setQuery(request, resolution.query)
    const source = queryOf(request)
    if (source === undefined || source === null || typeof source === 'string') return
    return refuse(request, reply, (await readOperation(null, schema, source, limits, [])).errors ?? [])
  })

  // After authentication: a caller without a token learns only that it needs one.
  app.addHook('preHandler', async (request, reply) => {
    if (request.documentRefusal !== null) return refuse(request, reply, [rejected(request.documentRefusal)])
    const source = queryOf(request)
    if (source === undefined || source === null || source === '') return refuse(request, reply, [rejected(NO_DOCUMENT)])
    if (!variablesAreAnObject(request)) return refuse(request, reply, [rejected(VARIABLES_NOT_OBJECT)])
    // The pipeline's stages (src/graphql/pipeline/stages.ts), run here from Mercurius' hooks: Mercurius executes.
    // A document not read before waits for its caller's turn (src/graphql/read-turns.ts).
    const { document, errors } = await readOperation(callerOf(request), schema, source, limits, HTTP_RULES)
    if (errors !== undefined) return refuse(request, reply, errors)
    const operationName = operationNameOf(request)
    const problem = operationProblem(document, operationName)
    if (problem !== null) return refuse(request, reply, [rejected(problem)])
    request.operationDocument = document
    request.operationType = operationType(document, operationName)
  })
}

/** The document of a POST body (JSON or application/graphql) or of a GET query string. */
function queryOf (request: FastifyRequest): unknown {
  const body = request.body
  if (typeof body === 'object' && body !== null && 'query' in body) return body.query
  return (request.query as { query?: unknown } | undefined)?.query
}

/** Puts the text a document id named where Mercurius reads the document. */
function setQuery (request: FastifyRequest, text: string): void {
  const body = request.body
  if (typeof body === 'object' && body !== null) (body as { query?: unknown }).query = text
  else (request.query as { query?: unknown }).query = text
}

/** The operationName of a POST body or of a GET query string (every hook of this door reads it here). */
export function operationNameOf (request: FastifyRequest): unknown {
  const body = request.body
  if (typeof body === 'object' && body !== null && 'operationName' in body) return body.operationName
  return (request.query as { operationName?: unknown } | undefined)?.operationName
}

/** A POST's variables are checked by the route's schema; a GET's are a JSON text, read here. */
function variablesAreAnObject (request: FastifyRequest): boolean {
  if (request.method !== 'GET') return true
  const text = (request.query as { variables?: unknown } | undefined)?.variables
  if (text === undefined || text === '') return true
  try {
    const value: unknown = JSON.parse(String(text))
    return value === null || (typeof value === 'object' && !Array.isArray(value))
  } catch {
    return false
  }
}
