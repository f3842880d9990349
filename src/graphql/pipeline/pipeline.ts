import { isLiveQueryOperationDefinitionNode } from '@n1ru4l/graphql-live-query'
import {
  getOperationAST, specifiedRules, type DocumentNode, type ExecutionArgs, type ExecutionResult, type GraphQLError, type GraphQLSchema,
  type OperationTypeNode, type ValidationRule
} from 'graphql'
import type { Caller } from '../../auth/index.js'
import { GatewayError } from '../../errors.js'
import type { GatewayContext } from '../context.js'
import type { DocumentLimits } from '../document.js'
import { formatError, formatStreamedResult, type FormatOptions } from '../error-formatter.js'
import { asksForPatches, type LiveQueries, type LiveRequest } from '../live-queries.js'
import type { DocumentParams, TrustedDocuments } from '../trusted-documents.js'
import { CompiledQueries } from './compiled.js'
import type {
  AbortOnLeave, AllowanceWindow, CallerAllowance, CallerCeiling, ContextFactory, Leavable, OperationLog, OperationRecord, OperationRecords, RecordStart
} from './ports.js'
import { costOf, operationProblem, operationType, readOperation, refusal, rejected, resolveText } from './stages.js'

/*
 * One operation, whichever door it came through: trusted-document lookup, the document's limits and
 * validation, the operation it names, its cost, the caller's allowance, its context, then execution,
 * and its record (log line, metrics, span) from start to finish. A door translates its protocol to
 * a `start` and a `prepare` (or one `run`), and the answers back; it adds only what is its own
 * (a socket's ceilings, a stream's token). The graphql-ws and graphql-sse servers execute what
 * `prepare` returns themselves; a door with no such library calls `run`. An operation with no
 * document (a REST event stream) is `admit`ted: named by its door, recorded, held to the caller's
 * ceiling or allowance, given its context, and finished when its door says it has ended.
 */

/** What a request names to run, as its door read it. */
export interface OperationParams extends DocumentParams {
  readonly variables?: unknown
  readonly operationName?: unknown
}

/** Which operation types a door runs, and the refusal of the others. */
export interface OnlyTypes {
  readonly types: ReadonlySet<OperationTypeNode>
  readonly refusal: string
  /** Whether a document that names no operation to run gets this refusal too (its message says how to name one). */
  readonly namesUnidentified?: boolean
  /** Whether a live query (`@live`) runs here though queries do not. */
  readonly live?: boolean
}

export interface Prepare {
  readonly caller: Caller
  readonly params: OperationParams
  /** Aborted when the client leaves: the operation's upstream calls stop. */
  readonly signal: AbortSignal
  /** The caller's lane (see callerKey): whom its reads of new documents wait in turn with, and whose allowance its queries and mutations count against. */
  readonly lane: string
  readonly only?: OnlyTypes
  /** Whether the door streams a live query's results (WebSocket, SSE, HTTP event streams); without, `@live` runs once. */
  readonly live?: boolean
  /**
   * The validation rules (graphql's own by default): a door's own rule goes in one array of its own,
   * the same array every time, since the document cache remembers which array a document passed.
   */
  readonly rules?: readonly ValidationRule[]
}

/**
 * The arguments to execute, or the errors that refuse the operation; and what the stages learnt on
 * the way: the worst-case cost (refused: once computed) and the caller's window (refused: when over it).
 */
export type Prepared = PreparedToRun | PreparedRefusal

interface PreparedToRun {
  readonly args: ExecutionArgs & { contextValue: unknown }
  readonly type: OperationTypeNode
  readonly live: boolean
  readonly cost: number | null
  readonly allowance: AllowanceWindow | null
  readonly errors?: undefined
}

interface PreparedRefusal {
  readonly args?: undefined
  readonly type?: undefined
  readonly live?: undefined
  readonly cost?: number | null
  readonly allowance?: AllowanceWindow | null
  readonly errors: readonly GraphQLError[]
}

/** What `execute` gives: one result, or a live query's results. */
export type Executed = ExecutionResult | AsyncIterableIterator<ExecutionResult>

export type FormattedError = ReturnType<typeof formatError>

export interface PipelineSettings {
  readonly schema: GraphQLSchema
  readonly limits: DocumentLimits
  readonly trusted: TrustedDocuments
  readonly formatting: FormatOptions
  readonly context: ContextFactory
  readonly records: OperationRecords
  readonly allowance: CallerAllowance
  /** graphql's `subscribe`, each event resolved once per scope and selection (src/graphql/shared-events.ts). */
  readonly subscribe: (args: ExecutionArgs) => Promise<AsyncGenerator<ExecutionResult> | ExecutionResult>
  /** Live queries, shared per (document, variables, scope) and re-executed as what they read changes (src/graphql/live-queries.ts). */
  readonly liveQueries: LiveQueries
  /** Ties an operation's context to its client leaving (src/transports/authenticate.ts). */
  readonly abortOnLeave: AbortOnLeave
}

/** An operation with no GraphQL document (a REST event stream): its door names it and says what the client leaving closes. */
export interface DocumentlessOperation {
  readonly caller: Caller
  /** The caller's lane (see callerKey): whose ceiling or allowance the operation counts against. */
  readonly lane: string
  readonly type: 'query' | 'mutation' | 'subscription'
  /** Its name in the door's own closed set (an OpenAPI operationId): its log line's and its metrics' label. */
  readonly name: string
  /** What closes when the client leaves: the operation's context aborts then, and its place under `ceiling` is freed. */
  readonly leaving: Leavable
  /** The door's ceiling of such operations one caller holds at once; without one, a query or mutation counts against the caller's allowance. */
  readonly ceiling?: CallerCeiling
  /** Whether its answer is a stream that lasts as long as its client: its reads are not traced under its span (as a subscription's events are not). */
  readonly stream?: boolean
}

/** A documentless operation let in: its context, and its record, told how it ended and finished when it ends. */
export class AdmittedOperation {
  constructor (readonly context: GatewayContext, private readonly record: OperationRecord, private readonly release: () => void) {}

  /** The operation answered a refusal or a failure (a problem, before or during its stream): the first one is its outcome. */
  fail (code: GatewayError['code'], message: string): void {
    this.record.errors([{ message, extensions: { code } }])
  }

  /** The operation has ended: its place under the ceiling is freed, its record finished (log line, metrics, span). Once. */
  finish (): void {
    this.release()
    this.record.finish()
  }
}

export type Admission = { admitted: AdmittedOperation, refusal?: undefined } | { admitted?: undefined, refusal: GatewayError }

/** One operation on its way through the pipeline: its record, and the answers formatted in the gateway's shape. */
export class OperationRun {
  constructor (readonly record: OperationRecord, private readonly start: RecordStart, private readonly pipeline: OperationPipeline) {}

  /** The stages up to the context: the arguments to execute, or the errors that refuse the operation. */
  async prepare (request: Prepare): Promise<Prepared> {
    const { schema, limits, trusted, allowance, context } = this.pipeline.settings
    const { params, only } = request
    const text = resolveText(trusted, params)
    if (text.errors !== undefined) return text
    const { document, errors } = await readOperation(request.lane, schema, text.value, limits, request.rules ?? specifiedRules)
    if (errors !== undefined) return { errors }
    this.record.identify(document, params.operationName)
    const type = operationType(document, params.operationName)
    if (type === null) return { errors: [rejected(only?.namesUnidentified === true ? only.refusal : operationProblem(document, params.operationName) ?? '')] }
    const live = request.live === true && type === 'query' && isLive(document, params.operationName, params.variables)
    if (only !== undefined && !only.types.has(type) && !(live && only.live === true)) return { errors: [rejected(only.refusal)] }
    const cost = costOf(schema, document, limits, params.variables, params.operationName)
    if (cost.errors !== undefined) return { errors: cost.errors, cost: cost.cost }
    const taken = type === 'subscription' ? null : await allowance.take(this.start.transport, request.lane, type)
    if (taken !== null && taken.refusal !== null) return { errors: refusal(taken.refusal.code, taken.refusal.message), allowance: taken.window }
    const contextValue = context(request.caller, this.start.requestId, request.signal)
    // A subscription's events are not traced: their spans would last as long as its client.
    this.record.attach(contextValue, type !== 'subscription')
    // The operation's span starts here, named, before any resolver opens its own under it.
    this.record.traceContext()
    const variableValues = params.variables as ExecutionArgs['variableValues']
    const operationName = typeof params.operationName === 'string' ? params.operationName : undefined
    if (live) this.pipeline.live.set(contextValue, { lane: request.lane, patches: asksForPatches(params.extensions) })
    return { type, live, cost: cost.cost, allowance: taken?.window ?? null, args: { schema, document, variableValues, operationName, contextValue } }
  }

  /** A result in the gateway's shape, its errors recorded; undefined when it has none to change. */
  format (result: ExecutionResult): ExecutionResult | undefined {
    const formatted = this.pipeline.format(result, this.start.requestId, this.start.log)
    this.record.errors(formatted?.errors)
    return formatted
  }

  /** Errors in the gateway's shape, recorded. */
  formatErrors (errors: readonly GraphQLError[]): FormattedError[] {
    const formatted = this.pipeline.formatErrors(errors, this.start.requestId, this.start.log)
    this.record.errors(formatted)
    return formatted
  }

  finish (): void {
    this.record.finish()
  }
}

export class OperationPipeline {
  /** The live queries prepared and not executed yet, by their context. */
  readonly live = new WeakMap<object, LiveRequest>()
  /** Queries and mutations compiled by graphql-jit, by document (src/graphql/pipeline/compiled.ts). */
  readonly compiled = new CompiledQueries()

  constructor (readonly settings: PipelineSettings) {}

  /** An operation arrives: its record starts (its time, its line). */
  start (start: RecordStart): OperationRun {
    return new OperationRun(this.settings.records.start(start), start, this)
  }

  /**
   * A query or mutation from start to finish, for a door that answers once: the result in the
   * gateway's shape (`data: null` and the refusal when refused). Subscriptions are refused: a door
   * that streams uses `start` and `prepare`.
   */
  async run (start: RecordStart, request: Omit<Prepare, 'only'>): Promise<{ data?: unknown, errors?: readonly unknown[] }> {
    const run = this.start(start)
    try {
      const prepared = await run.prepare({ ...request, only: ONE_SHOT })
      if (prepared.errors !== undefined) return { data: null, errors: run.formatErrors(prepared.errors) }
      const result = await this.compiled.execute(prepared.args)
      return run.format(result) ?? result
    } finally {
      run.finish()
    }
  }

  /**
   * An operation with no document, from its arrival: its record (named by the door), the caller's
   * ceiling (or, without one, allowance), its context tied to the client leaving. A refusal's record
   * is finished here; an admitted operation's when its door calls `finish`.
   */
  async admit (start: RecordStart, operation: DocumentlessOperation): Promise<Admission> {
    const { records, allowance, context, abortOnLeave } = this.settings
    const record = records.start(start)
    record.named?.(operation.type, operation.name)
    const signal = abortOnLeave(operation.leaving)
    const refuse = (refusal: GatewayError): Admission => {
      record.errors([{ message: refusal.message, extensions: { code: refusal.code } }])
      record.finish()
      return { refusal }
    }
    let release = (): void => {}
    const { ceiling, lane, leaving, type } = operation
    if (ceiling !== undefined) {
      if (!await ceiling.take(lane)) return refuse(new GatewayError('RATE_LIMITED', ceiling.refusal))
      // Freed once, whichever comes first: the operation's end, or its client leaving (also while the place was taken).
      let held = true
      release = () => {
        if (!held) return
        held = false
        ceiling.release(lane)
      }
      if (leaving.closed === true) release()
      else leaving.once('close', release)
    } else if (type !== 'subscription') {
      const { refusal } = await allowance.take(start.transport, lane, type)
      if (refusal !== null) return refuse(refusal)
    }
    const contextValue = context(operation.caller, start.requestId, signal)
    record.attach(contextValue, operation.stream !== true)
    record.traceContext()
    return { admitted: new AdmittedOperation(contextValue, record, release) }
  }

  /** A query or mutation prepared, executed; a live query gives its results as they change. */
  readonly execute = async (args: ExecutionArgs): Promise<Executed> => {
    const live = this.live.get(args.contextValue as object)
    if (live === undefined) return await this.compiled.execute(args)
    this.live.delete(args.contextValue as object)
    return this.settings.liveQueries.start(args, live)
  }

  /** A subscription prepared, subscribed: its events' results, or the result that ends it at once. */
  readonly subscribe = async (args: ExecutionArgs): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult> => await this.settings.subscribe(args)

  /** A result in the gateway's shape; undefined when it has no errors to change. */
  format (result: ExecutionResult, requestId: string, log: OperationLog): ExecutionResult | undefined {
    if (result.errors === undefined) return undefined
    return formatStreamedResult(result, requestId, log, this.settings.formatting)
  }

  /** Errors in the gateway's shape (those of an operation with no record yet: a door's own refusals before it starts). */
  formatErrors (errors: readonly GraphQLError[], requestId: string, log: OperationLog): FormattedError[] {
    return errors.map((error) => formatError(error, requestId, log, this.settings.formatting))
  }

  /** A refusal of the gateway's own as the errors of an operation (a door's ceiling, an expired token). */
  refusal (code: Parameters<typeof refusal>[0], message: string): readonly GraphQLError[] {
    return refusal(code, message)
  }
}

/** Whether the operation `operationName` names is a live query (`@live`, its `if` true with these variables). */
export function isLive (document: DocumentNode, operationName: unknown, variables: unknown): boolean {
  const operation = getOperationAST(document, typeof operationName === 'string' && operationName !== '' ? operationName : undefined)
  if (operation === null || operation === undefined) return false
  return isLiveQueryOperationDefinitionNode(operation, typeof variables === 'object' && variables !== null ? variables as Record<string, unknown> : undefined)
}

const ONE_SHOT: OnlyTypes = {
  types: new Set<OperationTypeNode>(['query', 'mutation'] as OperationTypeNode[]),
  refusal: 'This door answers queries and mutations only: subscribe over WebSocket (/graphql) or Server-Sent Events (/graphql/stream).'
}
