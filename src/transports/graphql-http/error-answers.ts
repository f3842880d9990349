import type { FastifyReply, FastifyRequest } from 'fastify'
import { GraphQLError, type ExecutionResult } from 'graphql'
import type { MercuriusContext } from 'mercurius'
import { ERRORS, refusalStatus } from '../../errors.js'
import type { GatewayContext } from '../../graphql/context.js'
import { formatError, isGraphQLError, tokenRefusal, type FormatOptions } from '../../graphql/error-formatter.js'

/*
 * The answers of /graphql when an operation fails or its request is refused: the errors in the
 * gateway's shape (src/graphql/error-formatter.ts), and what HTTP adds to them: the status, and
 * WWW-Authenticate on a refused token. Mercurius' errorFormatter for what reached it, Fastify's error
 * handler for a request refused before (a body too large or not JSON), with the same answers.
 */

/** A plain error Mercurius wrapped, as a GraphQL error whose original keeps the HTTP status. */
class GraphQLErrorWithStatus extends GraphQLError {
  constructor (message: string, wrapper: unknown) {
    const status = (wrapper as { statusCode?: unknown } | null)?.statusCode
    super(message, { originalError: Object.assign(new Error(message), { statusCode: typeof status === 'number' ? status : 400 }) })
  }
}

type Execution = ExecutionResult & Required<Pick<ExecutionResult, 'errors'>>

/** Mercurius' errorFormatter: the gateway's error shape and the HTTP status of the answer. */
type Formatted = { statusCode: number, response: ExecutionResult }

export function errorFormatterWith (options: FormatOptions): (execution: Execution, context: MercuriusContext) => Formatted {
  const formatting: FormatOptions = { ...options, refusalMessage: readableRequestError }
  return (execution, context) => errorFormatter(execution, context, formatting)
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
  const formatting: FormatOptions = { ...options, refusalMessage: readableRequestError }
  return async (error, _request, reply) => {
    const graphqlError = isGraphQLError(error) ? error : new GraphQLError(error.message, { originalError: error })
    const { statusCode, response } = errorFormatter({ errors: [graphqlError] }, { reply } as unknown as MercuriusContext, formatting)
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
