import type { FastifyReply, FastifyRequest } from 'fastify'
import { GraphQLError, type ExecutionResult } from 'graphql'
import type { Auth } from '../../auth/index.js'
import type { GatewayContext } from '../../graphql/context.js'
import type { FormatOptions } from '../../graphql/error-formatter.js'
import type { OnlyTypes, OperationPipeline } from '../../graphql/pipeline/pipeline.js'
import type { AllowanceWindow } from '../../graphql/pipeline/ports.js'
import { rejected } from '../../graphql/pipeline/stages.js'
import type { TrustedDocuments } from '../../graphql/trusted-documents.js'
import { abortOnLeave } from '../authenticate.js'
import { callerOfRequest } from '../rate-limits.js'
import { errorAnswer, refuse, sendErrors } from './error-answers.js'
import { byQueryString, GET_MUTATION, HTTP_RULES, readParameters } from './parameters.js'
import type { CachedAnswers } from './cached-answers.js'
import type { JoinExecution } from './shared-executions.js'

/*
 * The handler of GET and POST /graphql: the request's parameters (parameters.ts) handed to the
 * operation pipeline (src/graphql/pipeline: trusted documents, limits, validation, cost, the caller's
 * allowance, context, execution, the record), and its answer in HTTP: the status, the caller's
 * allowance as X-RateLimit-* headers (and Retry-After once over), the cost in the request's log line
 * (src/logger.ts) and, for a caller that sends `x-gateway-cost: true`, in `extensions.cost`.
 */

export interface OperationCost {
  /** The worst case computed before the operation ran; null when it could not be told. */
  readonly estimated: number | null
  /** Visual Layer requests the operation sent, retries included; reads shared or cached cost nothing. */
  readonly upstreamCalls: number
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set once a GraphQL operation's cost was computed; read by the request's log line. */
    operationCost: OperationCost | null
  }
}

export interface RouteSettings {
  readonly auth: Auth
  readonly pipeline: OperationPipeline
  readonly trusted: TrustedDocuments
  readonly maxCost: number | undefined
  readonly formatting: FormatOptions
  readonly join: JoinExecution
  readonly cached: CachedAnswers
}

/** A GET runs queries only: it must change nothing. (Subscriptions are refused by HTTP_RULES, with their own words.) */
const GET_ONLY: OnlyTypes = { types: new Set(['query']) as OnlyTypes['types'], refusal: GET_MUTATION }
const GET_REFUSED = new GraphQLError(GET_MUTATION, { originalError: Object.assign(new Error(GET_MUTATION), { statusCode: 405 }) })

export function operationHandler ({ auth, pipeline, trusted, maxCost, formatting, join, cached }: RouteSettings) {
  const laneOf = callerOfRequest(auth)
  return async function handle (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const run = request.operation
    const caller = request.caller
    if (run === null || caller === null) throw new Error('unreachable: every request is recorded and authenticated first')
    const read = readParameters(request, trusted)
    if (read.refusal !== undefined) return await refuse(request, reply, [rejected(read.refusal)], formatting)
    // The route's schema found a parameter of the wrong type (operationName, extensions): the error handler words it.
    if (request.validationError !== undefined) throw request.validationError
    const signal = abortOnLeave(reply.raw)
    const get = byQueryString(request)
    const prepared = await run.prepare({ caller, params: read.params, signal, lane: laneOf(request), rules: HTTP_RULES, ...(get ? { only: GET_ONLY } : {}) })
    if (prepared.cost !== undefined) request.operationCost = { estimated: prepared.cost, upstreamCalls: 0 }
    if (prepared.allowance != null) tellAllowance(reply, prepared.allowance, prepared.errors !== undefined)
    if (prepared.errors !== undefined) {
      const errors = get && prepared.errors[0]?.message === GET_MUTATION ? [GET_REFUSED] : prepared.errors
      return await refuse(request, reply, errors, formatting)
    }
    if (prepared.type === 'query') {
      if (await cached.answer(request, reply, read.params, read.text, prepared.args.document)) return reply
      if (await join(request, reply, read.params, read.text)) return reply
    }
    const stopTracking = cached.track(request, prepared.args.contextValue as GatewayContext)
    let result: ExecutionResult
    try {
      result = await pipeline.execute(prepared.args) as ExecutionResult
    } finally {
      stopTracking()
    }
    const cost = { estimated: prepared.cost, upstreamCalls: (prepared.args.contextValue as GatewayContext).call.budget?.used ?? 0 }
    request.operationCost = cost
    const extensions = request.headers['x-gateway-cost'] === 'true' ? { ...result.extensions, cost: { ...cost, limit: maxCost ?? null } } : result.extensions
    if (result.errors === undefined) return await reply.code(200).send(extensions === undefined ? result : { ...result, extensions })
    const answer = errorAnswer(result.errors, result.data, { requestId: String(request.id), log: request.log, formatting, gone: signal.aborted })
    return await sendErrors(reply, extensions === undefined ? answer : { ...answer, body: { ...answer.body, extensions } })
  }
}

/** The caller's window of a minute, as @fastify/rate-limit tells it (REST tells it the same way). */
function tellAllowance (reply: FastifyReply, { limit, remaining, resetSeconds }: AllowanceWindow, refused: boolean): void {
  reply.header('x-ratelimit-limit', limit).header('x-ratelimit-remaining', refused ? 0 : remaining).header('x-ratelimit-reset', resetSeconds)
  if (refused) reply.header('retry-after', resetSeconds)
}
