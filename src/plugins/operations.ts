import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { getOperationAST, Kind, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql'
import type { Caller } from '../auth/index.js'
import type { ErrorCode } from '../errors.js'
import type { GatewayContext } from '../graphql/context.js'
import type { OperationLog, OperationRecord, OperationType } from '../graphql/pipeline/ports.js'
import type { CallBudget } from '../upstream/call-budget-ledger.js'
import type { GatewayMetrics } from './metrics.js'

/*
 * One GraphQL operation as operators see it (`app.operations`), whichever door it came through: one
 * log line when it ends (name, type, duration, upstream calls, outcome), its metrics, and its span
 * (named per the OpenTelemetry GraphQL conventions, `query DatasetPage`). A door starts a record when
 * an operation arrives, tells it what it learns (the document, the call budget, the errors answered)
 * and finishes it once; a record finished twice counts once.
 */

/** The door an operation came through: http, websocket, sse, or a door of its own. */
export type Transport = string

declare module 'fastify' {
  interface FastifyInstance {
    operations: Operations
  }
}

/** Codes that say the gateway or Visual Layer failed, not the caller: their line is a warning. */
const SERVER_SIDE: ReadonlySet<string> = new Set(['INTERNAL_SERVER_ERROR', 'UPSTREAM_ERROR', 'UPSTREAM_CONTRACT', 'UPSTREAM_TIMEOUT', 'UPSTREAM_UNAVAILABLE'])

/** Why a document was refused (QUERY_REJECTED), from the gateway's own messages: a bounded label. */
export function rejectionReason (message: string): string {
  if (message.startsWith('Syntax Error')) return 'syntax'
  if (/nests (fields more than|too deeply)/.test(message)) return 'depth'
  if (/selects more than \d+ fields/.test(message)) return 'fields'
  if (/more than \d+ tokens/.test(message)) return 'tokens'
  if (/\bcost\b/i.test(message)) return 'cost'
  if (message.includes('calls to Visual Layer')) return 'calls'
  return 'validation'
}

/** Outcomes of an operation that ran: what earns its name a metric label (see GraphQLOperationRecord.finish). */
const RAN: ReadonlySet<string> = new Set([
  'ok', 'NOT_FOUND', 'CONFLICT', 'UPSTREAM_TIMEOUT', 'UPSTREAM_UNAVAILABLE', 'UPSTREAM_ERROR', 'UPSTREAM_CONTRACT', 'INTERNAL_SERVER_ERROR'
])

const INTROSPECTION_FIELDS: ReadonlySet<string> = new Set(['__typename', '__schema', '__type'])

/** Whether a selection asks the schema for a field besides introspection, its fragments followed (each once). */
function asksSchema (selections: SelectionSetNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>, seen = new Set<string>()): boolean {
  return selections.selections.some((selection) => {
    if (selection.kind === Kind.FIELD) return !INTROSPECTION_FIELDS.has(selection.name.value)
    if (selection.kind === Kind.INLINE_FRAGMENT) return asksSchema(selection.selectionSet, fragments, seen)
    const name = selection.name.value
    const fragment = fragments.get(name)
    if (fragment === undefined || seen.has(name)) return false
    seen.add(name)
    return asksSchema(fragment.selectionSet, fragments, seen)
  })
}

export interface OperationStart {
  transport: Transport
  requestId: string
  log: OperationLog
  /** Whether `log` names the requestId already (a request's logger does; a socket's does not): a line names it once. */
  logNamesRequest: boolean
  /** The trace context the operation runs in (the HTTP request's span); none: a new trace. */
  parent?: Context
}

export class GraphQLOperationRecord implements OperationRecord {
  type: OperationType = 'unknown'
  name: string | null = null
  /** The operation's upstream call allowance: its count of requests sent goes to the log line. */
  budget: CallBudget | null = null
  /** Whether the operation asks for more than introspection (`{ __typename }` probes earn no label). */
  private asks = false
  private caller: Caller | null = null
  private first: { code: string, message: string } | null = null
  private readonly started = performance.now()
  private span: Span | null = null
  private spanContext: Context | undefined
  private done = false
  /** The request whose execution answered this one (identical queries in flight share one). */
  private answeredBy: string | null = null
  private fromCache = false
  /** Whether the door named the operation (no document): its name is its label, and its line says the door. */
  private ownName = false

  constructor (
    private readonly start: OperationStart,
    private readonly metrics: GatewayMetrics,
    private readonly tracing: boolean,
    private readonly vouched: (caller: Caller) => boolean
  ) {}

  /** The operation the document names (`operationName`, or its only one). */
  identify (document: DocumentNode, operationName: unknown): void {
    const operation = getOperationAST(document, typeof operationName === 'string' ? operationName : undefined)
    if (operation === null || operation === undefined) return
    this.type = operation.operation
    this.name = operation.name?.value ?? null
    const fragments = new Map<string, FragmentDefinitionNode>()
    for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition)
    this.asks = asksSchema(operation.selectionSet, fragments)
  }

  /** An operation with no document, named by its door from a closed set of its own (an OpenAPI operationId): the name is its label. */
  named (type: Exclude<OperationType, 'unknown'>, name: string): void {
    this.type = type
    this.name = name
    this.ownName = true
  }

  /**
   * The operation's context: its call budget counts the operation's upstream calls; its resolvers
   * open their spans under the operation's (not for a subscription's events: `traced` false).
   */
  attach (context: GatewayContext, traced = true): void {
    this.budget = context.call.budget ?? null
    this.caller = context.caller
    if (this.tracing && traced) context.traceContext = () => this.traceContext()
  }

  /** Records the errors of an answer; the first one's code is the operation's outcome. */
  errors (errors: ReadonlyArray<{ message?: unknown, extensions?: { code?: unknown } }> | undefined): void {
    const error = errors?.[0]
    if (this.first !== null || error === undefined) return
    const code = error.extensions?.code
    this.first = { code: typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR', message: typeof error.message === 'string' ? error.message : '' }
  }

  /** This request was answered with the body of `requestId`'s identical execution. */
  sharedFrom (requestId: string): void {
    this.answeredBy = requestId
  }

  /** This request was answered from the response cache. */
  cached (): void {
    this.fromCache = true
  }

  fail (code: ErrorCode, message: string): void {
    this.errors([{ message, extensions: { code } }])
  }

  /**
   * The trace context resolvers run under: the operation's span, started on first use (once the
   * document is known, so that the span has its name). Undefined with tracing off: nothing to pay.
   */
  traceContext (): Context | undefined {
    if (!this.tracing) return undefined
    if (this.spanContext !== undefined) return this.spanContext
    const parent = this.start.parent ?? ROOT_CONTEXT
    const attributes: Record<string, string> = this.ownName
      ? { 'vlgw.operation.type': this.type, 'vlgw.operation.name': this.name ?? '' }
      : { 'graphql.operation.type': this.type }
    if (!this.ownName && this.name !== null) attributes['graphql.operation.name'] = this.name
    // GraphQL semantic conventions: "{type} {name}", or "{type}" for an unnamed operation; a door's own operation: "{door} {name}".
    const spanName = this.ownName
      ? `${this.start.transport} ${this.name ?? ''}`
      : this.type === 'unknown' ? 'GraphQL Operation' : `${this.type}${this.name === null ? '' : ` ${this.name}`}`
    this.span = trace.getTracer('visual-layer-gateway').startSpan(spanName, { kind: SpanKind.INTERNAL, attributes }, parent)
    this.spanContext = trace.setSpan(parent, this.span)
    return this.spanContext
  }

  finish (): void {
    if (this.done) return
    this.done = true
    const seconds = (performance.now() - this.started) / 1000
    const outcome = this.first?.code ?? 'ok'
    const { metrics } = this
    // A name earns a label of its own only for an operation that ran (not refused: its document, its
    // caller, its rate), asked the schema for more than introspection, for a caller something vouched
    // for: each of those costs the sender a real request, so junk names cannot use up the bounded set.
    // A door's own name (an operationId) is one of a closed set: it is its label as it is.
    const earns = this.asks && RAN.has(outcome) && this.caller !== null && this.vouched(this.caller)
    const label = this.ownName && this.name !== null ? this.name : metrics.operationNames.label(this.name, earns)
    metrics.operation({ transport: this.start.transport, type: this.type, name: label, outcome, seconds })
    if (outcome === 'RATE_LIMITED') metrics.rateLimited.inc()
    if (outcome === 'QUERY_REJECTED') metrics.queriesRejected.inc({ reason: rejectionReason(this.first?.message ?? '') })

    if (this.span !== null) {
      if (this.first !== null) {
        this.span.setAttribute('error.type', outcome)
        this.span.setStatus({ code: SpanStatusCode.ERROR, message: outcome })
      }
      this.span.end()
    }

    const line = {
      operation: {
        name: this.name?.slice(0, 100) ?? null,
        type: this.type,
        transport: this.start.transport,
        ms: Math.round(seconds * 1000),
        upstreamCalls: this.budget?.total ?? 0,
        outcome,
        ...(this.answeredBy === null ? {} : { sharedFrom: this.answeredBy }),
        ...(this.fromCache ? { cached: true } : {})
      },
      ...(this.start.logNamesRequest ? {} : { requestId: this.start.requestId })
    }
    // A caller's mistake is info (with a short reason); warn when the gateway or Visual Layer failed
    // (formatError has already logged the detail; error is kept for what an operator must act on).
    const what = this.ownName ? `${this.start.transport} operation` : 'graphql operation'
    if (SERVER_SIDE.has(outcome)) this.start.log.warn(line, `${what} failed`)
    // A refused caller's reason is logged where it was refused, as a short code ("caller refused"):
    // its message quotes the Authorization header's form, and the logs never hold anything like it.
    else if (outcome === 'UNAUTHENTICATED') this.start.log.info(line, `${what} refused or partial`)
    else if (this.first !== null) this.start.log.info({ ...line, reason: this.first.message.slice(0, 200) }, `${what} refused or partial`)
    else this.start.log.info(line, what)
  }
}

export class Operations {
  /** `vouched`: whether a caller's credential is one the gateway or Visual Layer has checked (not a token Visual Layer has yet to accept). */
  constructor (private readonly metrics: GatewayMetrics, readonly tracing: boolean, private readonly vouched: (caller: Caller) => boolean = () => true) {}

  start (start: OperationStart): GraphQLOperationRecord {
    return new GraphQLOperationRecord(start, this.metrics, this.tracing, this.vouched)
  }
}

export interface OperationsPluginOptions {
  /** Whether spans are made (OTEL_EXPORTER_OTLP_ENDPOINT set). */
  tracing: boolean
}

const operationsPlugin: FastifyPluginAsync<OperationsPluginOptions> = async (app, { tracing }) => {
  const { scopes } = app.auth
  app.decorate('operations', new Operations(app.metrics, tracing, (caller) => scopes.standingOf(caller.credential) === 'proven'))
}

export default fp(operationsPlugin, { name: 'operations', decorators: { fastify: ['metrics', 'auth'] } })
