import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import { GraphQLError } from 'graphql'
import { ERRORS, isGatewayError, refusalStatus } from '../../errors.js'
import { formatError, isGraphQLError, tokenRefusal, type FormatOptions } from '../../graphql/error-formatter.js'

/*
 * The answers of /graphql with errors: the errors in the gateway's shape (src/graphql/error-formatter.ts),
 * and what HTTP adds to them: the status, and WWW-Authenticate on a refused token. The same answer for
 * an operation the pipeline refused or ran, a request the door refused before (its parameters), and
 * one Fastify refused (a body too large or not JSON: the plugin's error handler).
 */

/** The status and body of an answer with errors; `authenticate`: a refused token, answered with WWW-Authenticate. */
export interface ErrorAnswer {
  readonly statusCode: number
  readonly body: { data: unknown, errors: unknown[], extensions?: unknown }
  readonly authenticate: boolean
}

/** Where the answer is logged, for whom, and whether its client has left (its upstream calls stopped). */
export interface Answering {
  readonly requestId: string
  readonly log: FastifyBaseLogger
  readonly formatting: FormatOptions
  readonly gone?: boolean
}

/**
 * The answer to `errors` beside `data` (undefined: the operation never ran). A request that could
 * not run at all is a 400 (or the status of its refusal: 405, 413, 429...); errors beside data are a
 * 200 (GraphQL over HTTP).
 */
export function errorAnswer (errors: readonly GraphQLError[], data: unknown, { requestId, log, formatting, gone = false }: Answering): ErrorAnswer {
  const refusal = tokenRefusal(errors)
  if (refusal !== null) {
    // Visual Layer refused the caller's token: answered as the gateway's own refusals are (auth/index.ts),
    // with one error, not one per field the operation could not read.
    const { message, extensions } = formatError(refusal, requestId, log)
    return { statusCode: ERRORS.UNAUTHENTICATED.status, body: { data: null, errors: [{ message, extensions }] }, authenticate: true }
  }
  // A caller who went away stopped the operation's upstream calls: every field then fails with an
  // AbortError. That is one ordinary event, logged once; the answer goes nowhere.
  if (gone) log.info({ errors: errors.length }, 'the caller went away before the answer; its upstream calls were stopped')
  const errorLog = gone ? log.child({}, { level: 'silent' }) : log
  const formatted = errors.map((error) => formatError(error, requestId, errorLog, formatting))
  const statusCode = data === undefined ? (errors.length === 1 ? statusOf(errors[0]?.originalError) : null) ?? 400 : 200
  return { statusCode, body: { data: data ?? null, errors: formatted }, authenticate: false }
}

/** The status of a request refused whole by one error: its own (Fastify's, the door's), or its code's (RATE_LIMITED: 429). */
function statusOf (err: unknown): number | null {
  return refusalStatus(err) ?? (isGatewayError(err) ? ERRORS[err.code].status : null)
}

/** Sends an answer with errors. */
export async function sendErrors (reply: FastifyReply, answer: ErrorAnswer): Promise<FastifyReply> {
  if (answer.authenticate) reply.header('www-authenticate', 'Bearer')
  return await reply.code(answer.statusCode).send(answer.body)
}

/** A request refused by the door or the pipeline before its operation ran. */
export async function refuse (request: FastifyRequest, reply: FastifyReply, errors: readonly GraphQLError[], formatting: FormatOptions): Promise<FastifyReply> {
  // Logged once, as the operation's line (src/plugins/operations.ts), at info with the reason.
  return await sendErrors(reply, errorAnswer(errors, undefined, { requestId: String(request.id), log: request.log, formatting }))
}

/**
 * Fastify's error handler for the GraphQL routes: a request Fastify refused (a body too large, not
 * JSON, of a type not read, a body that is not an object) or an error the route did not expect.
 */
export function handleRequestErrorWith (formatting: FormatOptions): (error: Error, request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
  return async (error, request, reply) => {
    const graphqlError = isGraphQLError(error) ? error : new GraphQLError(error.message, { originalError: error })
    return await refuse(request, reply, [graphqlError], formatting)
  }
}

/** A GraphQL request's body over Fastify's 1 MB limit, on every GraphQL door (/graphql, /graphql/stream). */
export const BODY_TOO_LARGE = 'The request body is over 1 MB, the most this gateway reads: send a smaller document or fewer variables.'

/** The gateway's formatting, with Fastify's refusals of a request in words that say what to send. */
export function doorFormatting (options: FormatOptions): FormatOptions {
  return { ...options, refusalMessage: readableRequestError }
}

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
