import type { Context as TraceContext } from '@opentelemetry/api'
import type { DocumentNode } from 'graphql'
import type { BaseLogger } from 'pino'
import type { Caller } from '../../auth/index.js'
import type { GatewayError } from '../../errors.js'
import type { GatewayContext } from '../context.js'

/*
 * What the pipeline is given rather than imports: the graph layer sees no plugin and no door, so the
 * operation record (log line, metrics, span: src/plugins/operations.ts), the caller's allowance
 * (src/transports/operation-allowance.ts) and the context factory (src/plugins/domain.ts) come in
 * as these interfaces, composed by src/plugins/pipeline.ts.
 */

export type OperationType = 'query' | 'mutation' | 'subscription' | 'unknown'

/** Where an operation's line and its errors' details are logged. */
export type OperationLog = Pick<BaseLogger, 'info' | 'warn' | 'error'>

/** Where an operation's record starts: which door, under which id, and where its line goes. */
export interface RecordStart {
  /** The door's name, as the log line's `transport`: http, websocket, sse, or a door of its own. */
  transport: string
  requestId: string
  log: OperationLog
  /** Whether `log` names the requestId already (a request's logger does; a socket's does not): a line names it once. */
  logNamesRequest: boolean
  /** The trace context the operation runs in (the HTTP request's span); none: a new trace. */
  parent?: TraceContext
}

/** One operation as operators see it: told what the pipeline learns, finished once (a second finish counts nothing). */
export interface OperationRecord {
  readonly type: OperationType
  identify: (document: DocumentNode, operationName: unknown) => void
  /** The operation's context: its call budget, its caller, and (when `traced`) its resolvers' spans under the operation's. */
  attach: (context: GatewayContext, traced?: boolean) => void
  /** The errors of an answer, formatted: the first one's code is the operation's outcome. */
  errors: (errors: ReadonlyArray<{ message?: unknown, extensions?: { code?: unknown } }> | undefined) => void
  traceContext: () => TraceContext | undefined
  /** An operation with no document (a REST event stream): its door names it, with a name from the door's own closed set (an OpenAPI operationId). */
  named?: (type: Exclude<OperationType, 'unknown'>, name: string) => void
  /** This operation was answered with the result of `requestId`'s identical one (a door that shares executions). */
  sharedFrom: (requestId: string) => void
  /** This operation was answered with a kept answer of an identical one (a door's response cache): nothing executed. */
  cached: () => void
  finish: () => void
}

export interface OperationRecords {
  start: (start: RecordStart) => OperationRecord
}

/** The caller's window of a minute once an operation was counted in it: what GraphQL over HTTP tells in its X-RateLimit-* headers. */
export interface AllowanceWindow {
  /** Operations this window allows. */
  readonly limit: number
  /** Operations left in it (0 once over). */
  readonly remaining: number
  /** Seconds until it ends (at least 1). */
  readonly resetSeconds: number
}

/** One operation counted: its refusal (RATE_LIMITED) or null, and its window (null when no allowance applies to it). */
export interface AllowanceTaken {
  readonly refusal: GatewayError | null
  readonly window: AllowanceWindow | null
}

/** The operations a minute a caller may run through a door; a subscription has ceilings of its own and is not counted here. */
export interface CallerAllowance {
  /** Counts one operation of `type` in the caller's lane (see callerKey). */
  take: (door: string, lane: string, type: 'query' | 'mutation') => Promise<AllowanceTaken>
}

export type ContextFactory = (caller: Caller, requestId: string, signal: AbortSignal) => GatewayContext

/** What closes when the client leaves: an HTTP response (its socket closing before the answer was sent) or a socket. */
export interface Leavable {
  once: (event: 'close', listener: () => void) => unknown
  readonly writableFinished?: boolean
  /** Whether it has closed already (a response's socket). */
  readonly closed?: boolean
}

/** A signal aborted when the client leaves before its answer was complete (src/transports/authenticate.ts, the one place that ties them). */
export type AbortOnLeave = (target: Leavable) => AbortSignal

/** A door's ceiling on what one caller holds open at once (REST event streams per caller), counted in this process or across replicas. */
export interface CallerCeiling {
  /** Takes a place in `lane`: false when there is none left. */
  take: (lane: string) => Promise<boolean>
  release: (lane: string) => void
  /** The refusal's message when there is none left (RATE_LIMITED). */
  readonly refusal: string
}
