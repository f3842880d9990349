import type { ExecutionResult, GraphQLError, GraphQLFormattedError } from 'graphql'
import type { BaseLogger } from 'pino'
import { codeOfRefusal, ERROR_CODES, isGatewayError, refusalStatus, type ErrorCode } from '../errors.js'
import { TokenRefusedError } from '../upstream/errors.js'

/*
 * Turns every GraphQL error into the gateway's shape: a code from the closed list in errors.ts,
 * the request id, and for upstream failures the upstream status. Anything unexpected is masked
 * as INTERNAL_SERVER_ERROR; its detail goes to the log, never to the client. What an answer is over
 * HTTP (its status, its headers) is the door's: src/transports/graphql-http/error-answers.ts.
 */

/** Where a formatted error's detail is logged. */
export type ErrorLog = Pick<BaseLogger, 'warn' | 'error'>

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
  /** The words of a refusal of the request beneath the door (a 4xx error of its server): its own message unless the door says better. */
  readonly refusalMessage?: (error: Error) => string
}

/** graphql-js' hints: `Did you mean "a", "b", or "c"?`, `Did you mean the enum value "X"?`, `Did you mean to use an inline fragment on "T"?`. */
const SUGGESTION = /\s*Did you mean [^?]*\?/g

export function formatError (
  error: GraphQLError,
  requestId: string,
  log: ErrorLog,
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
    // The door's server refusing a malformed request (bad JSON, too large, rate limit): its message
    // describes the request, not our internals. A status that names no code is a document that cannot run.
    const message = options.refusalMessage?.(original) ?? original.message
    return { ...base, message, extensions: { code: codeOfRefusal(status, 'QUERY_REJECTED'), requestId } }
  }
  log.error({ err: original, path: error.path }, 'unexpected error in a resolver')
  return { ...base, message: `Internal error. Quote request id ${requestId} to the operators.`, extensions: { code: 'INTERNAL_SERVER_ERROR', requestId } }
}

/** By name, not instanceof: a second copy of graphql (ESM beside CJS) must not turn into a 500. */
export function isGraphQLError (error: unknown): error is GraphQLError {
  return error instanceof Error && error.name === 'GraphQLError'
}

function isInputError (error: GraphQLError): boolean {
  return error.message.startsWith('Variable "$') ||
    /^(Int|Float|Boolean|String|ID|Enum ".*") cannot represent/.test(error.message) ||
    error.message.startsWith('Expected value of type')
}

/** The error saying Visual Layer refused the caller's token, preferring the one with Visual Layer's own answer. */
export function tokenRefusal (errors: readonly GraphQLError[]): GraphQLError | null {
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
  log: ErrorLog,
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
