import { GraphQLError, type ExecutionResult, type GraphQLFormattedError } from 'graphql'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { MercuriusContext } from 'mercurius'
import { codeOfRefusal, ERROR_CODES, ERRORS, isGatewayError, refusalStatus, type ErrorCode } from '../errors.js'
import { TokenRefusedError } from '../upstream/errors.js'
import type { GatewayContext } from './context.js'

/*
 * Turns every GraphQL error into the gateway's shape: a code from the closed list in errors.ts,
 * the request id, and for upstream failures the upstream status. Anything unexpected is masked
 * as INTERNAL_SERVER_ERROR; its detail goes to the log, never to the client.
 */

const KNOWN: ReadonlySet<string> = new Set(ERROR_CODES)
const SERVER_SIDE: ReadonlySet<ErrorCode> = new Set([
  'INTERNAL_SERVER_ERROR', 'UPSTREAM_ERROR', 'UPSTREAM_CONTRACT', 'UPSTREAM_TIMEOUT', 'UPSTREAM_UNAVAILABLE'
])

/** graphql-js quotes a bad value whole in its messages; past this length a message quotes values shortened. */
const LONG_MESSAGE = 300

/** Each quoted value of more than 80 characters cut to its first 80: a 200 KB argument is not echoed back. */
function shortened (message: string): string {
  if (message.length <= LONG_MESSAGE) return message
  // Quoted values taken pairwise from the left, so a short one's closing quote never opens another.
  return message.replace(/"(?:[^"\\]|\\.)*"/g, (quoted) => quoted.length > 82 ? `${quoted.slice(0, 81)}..."` : quoted)
}

export interface FormatOptions {
  /** Drop graphql-js' "Did you mean ...?" hints, which name the schema's fields, types and values (INTROSPECTION off). */
  readonly hideSuggestions?: boolean
}

/** graphql-js' hints: `Did you mean "a", "b", or "c"?`, `Did you mean the enum value "X"?`, `Did you mean to use an inline fragment on "T"?`. */
const SUGGESTION = /\s*Did you mean [^?]*\?/g

export function formatError (
  error: GraphQLError,
  requestId: string,
  log: MercuriusContext['reply']['log'],
  options: FormatOptions = {}
): GraphQLFormattedError {
  const message = options.hideSuggestions === true ? error.message.replace(SUGGESTION, '') : error.message
  const base = { message: shortened(message), locations: error.locations, path: error.path }
  const original = error.originalError
  if (isGatewayError(original)) {
    if (SERVER_SIDE.has(original.code)) {
      log.warn({ code: original.code, path: error.path, detail: original.logDetail }, original.message)
    }
    const upstream = original.upstreamStatus === undefined ? {} : { upstream: { status: original.upstreamStatus } }
    return { ...base, message: original.message, extensions: { code: original.code, requestId, ...upstream } }
  }
  if (isInputError(error)) {
    // A value graphql-js could not coerce (our scalars throw TypeErrors): its message names the argument or variable.
    return { ...base, extensions: { code: 'BAD_USER_INPUT', requestId } }
  }
  if (original === undefined || original === null || isGraphQLError(original)) {
    // graphql-js' own errors: syntax, validation, variable coercion; or our scalars' input errors.
    const source = isGraphQLError(original) ? original : error
    const given = source.extensions?.code
    const code = typeof given === 'string' && KNOWN.has(given) ? given : (isInputError(source) ? 'BAD_USER_INPUT' : 'QUERY_REJECTED')
    return { ...base, extensions: { code, requestId } }
  }
  const status = refusalStatus(original)
  if (status !== null) {
    // Fastify's and its plugins' refusals of a malformed request (bad JSON, too large, rate limit):
    // their messages describe the request, not our internals. A status that names no code is a document that cannot run.
    return { ...base, message: readableRequestError(original), extensions: { code: codeOfRefusal(status, 'QUERY_REJECTED'), requestId } }
  }
  log.error({ err: original, path: error.path }, 'unexpected error in a resolver')
  return { ...base, message: `Internal error. Quote request id ${requestId} to the operators.`, extensions: { code: 'INTERNAL_SERVER_ERROR', requestId } }
}

/** A plain error Mercurius wrapped, as a GraphQL error whose original keeps the HTTP status. */
class GraphQLErrorWithStatus extends GraphQLError {
  constructor (message: string, wrapper: unknown) {
    const status = (wrapper as { statusCode?: unknown } | null)?.statusCode
    super(message, { originalError: Object.assign(new Error(message), { statusCode: typeof status === 'number' ? status : 400 }) })
  }
}

/** By name, not instanceof: a second copy of graphql (ESM beside CJS) must not turn into a 500. */
function isGraphQLError (error: unknown): error is GraphQLError {
  return error instanceof Error && error.name === 'GraphQLError'
}

function isInputError (error: GraphQLError): boolean {
  return error.message.startsWith('Variable "$') ||
    /^(Int|Float|Boolean|String|ID|Enum ".*") cannot represent/.test(error.message) ||
    error.message.startsWith('Expected value of type')
}

/** The error saying Visual Layer refused the caller's token, preferring the one with Visual Layer's own answer. */
function tokenRefusal (errors: readonly GraphQLError[]): GraphQLError | null {
  const refusals = errors.filter((error) => error.originalError instanceof TokenRefusedError)
  return refusals.find((error) => (error.originalError as TokenRefusedError).upstreamStatus !== undefined) ?? refusals[0] ?? null
}

/**
 * The errors of one streamed result (a WebSocket or SSE event) in the gateway's shape. A token Visual
 * Layer refused is one UNAUTHENTICATED error with no data, as over HTTP, not one per field.
 */
export function formatStreamedResult (
  result: ExecutionResult,
  requestId: string,
  log: MercuriusContext['reply']['log'],
  options: FormatOptions = {}
): ExecutionResult | undefined {
  if (result.errors === undefined) return undefined
  const refusal = tokenRefusal(result.errors)
  if (refusal !== null) {
    const { message, extensions } = formatError(refusal, requestId, log)
    return { data: null, errors: [{ message, extensions }] as unknown as ExecutionResult['errors'] }
  }
  return { ...result, errors: result.errors.map((error) => formatError(error, requestId, log, options)) as never }
}

type Execution = ExecutionResult & Required<Pick<ExecutionResult, 'errors'>>

/** Mercurius' errorFormatter: the gateway's error shape and the HTTP status of the answer. */
type Formatted = { statusCode: number, response: ExecutionResult }

export function errorFormatterWith (options: FormatOptions): (execution: Execution, context: MercuriusContext) => Formatted {
  return (execution, context) => errorFormatter(execution, context, options)
}

function errorFormatter (execution: Execution, context: MercuriusContext, options: FormatOptions): Formatted {
  const reply = context.reply
  const requestId = String(reply.request.id)
  const errors = execution.errors.flatMap((error) => {
    // Mercurius wraps validation failures: one error holding the list.
    const inner = (error.originalError as { errors?: unknown } | undefined)?.errors
    if (!Array.isArray(inner)) return [error]
    const graphql = inner.filter(isGraphQLError)
    if (graphql.length > 0) return graphql
    // Mercurius also wraps plain errors (e.g. a mutation sent by GET): keep its status, say its reason.
    const reason = inner.find((e): e is Error => e instanceof Error)
    return [reason === undefined ? error : new GraphQLErrorWithStatus(readableRequestError(reason), error.originalError)]
  })
  const refusal = tokenRefusal(errors)
  if (refusal !== null) {
    // Visual Layer refused the caller's token: answered as the gateway's own refusals are (auth/index.ts),
    // with one error, not one per field the operation could not read.
    const { message, extensions } = formatError(refusal, requestId, reply.log)
    reply.header('www-authenticate', 'Bearer')
    return { statusCode: ERRORS.UNAUTHENTICATED.status, response: { data: null, errors: [{ message, extensions }] as unknown as ExecutionResult['errors'] } }
  }
  // A caller who went away stopped the operation's upstream calls: every field then fails with an
  // AbortError. That is one ordinary event, logged once; the answer goes nowhere.
  const gone = (context as Partial<GatewayContext>).call?.signal?.aborted === true
  if (gone) reply.log.info({ errors: errors.length }, 'the caller went away before the answer; its upstream calls were stopped')
  const log = gone ? reply.log.child({}, { level: 'silent' }) : reply.log
  const formatted = errors.map((error) => formatError(error, requestId, log, options))
  // GraphQL over HTTP: a document that could not run at all is a 400 (or the status of the request's
  // refusal, e.g. 413 or 429); errors beside data are a 200.
  const refused = errors.length === 1 ? refusalStatus(errors[0]?.originalError) : null
  const statusCode = execution.data === undefined ? (refused ?? 400) : 200
  return { statusCode, response: { data: execution.data ?? null, errors: formatted as unknown as ExecutionResult['errors'] } }
}

/**
 * Fastify's error handler for the GraphQL routes: the same answer as the formatter gives, with no
 * operation context, so that a request refused before authentication (a body too large or not JSON)
 * is answered as such.
 */
export function handleRequestErrorWith (options: FormatOptions): (error: Error, request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
  return async (error, _request, reply) => {
    const graphqlError = isGraphQLError(error) ? error : new GraphQLError(error.message, { originalError: error })
    const { statusCode, response } = errorFormatter({ errors: [graphqlError] }, { reply } as unknown as MercuriusContext, options)
    return await reply.code(statusCode).send(response)
  }
}

/** A GraphQL request's body over Fastify's 1 MB limit, on every GraphQL door (/graphql, /graphql/stream). */
export const BODY_TOO_LARGE = 'The request body is over 1 MB, the most this gateway reads: send a smaller document or fewer variables.'

/**
 * Fastify's words for a malformed request ("body must be object", "Unsupported Media Type"), as
 * sentences that say what to send instead. Anything else keeps its message.
 */
function readableRequestError (error: Error): string {
  type FastifyRequestError = Error & { code?: unknown, validation?: Array<{ instancePath?: string }>, validationContext?: unknown }
  const { code, validation, validationContext } = error as FastifyRequestError
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return 'Unsupported Content-Type: send the request as application/json ({"query": "...", "variables": {...}}), or the document alone as application/graphql.'
  }
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return BODY_TOO_LARGE
  if (code === 'FST_ERR_VALIDATION' && validationContext === 'body') {
    const where = validation?.[0]?.instancePath ?? ''
    if (where === '') return 'The request body must be a JSON object: {"query": "...", "variables": {...}, "operationName": "..."}.'
    if (where === '/variables') return '"variables" must be a JSON object (or null), e.g. {"id": "..."}; not a string or a list.'
    if (where === '/operationName') return '"operationName" must be a string (or null): the name of one operation in the document.'
    if (where === '/extensions') return '"extensions" must be a JSON object (or null).'
  }
  return error.message
}
