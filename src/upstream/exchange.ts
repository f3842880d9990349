import type { CallBudget } from './call-budget-ledger.js'
import type { FailedCall } from './errors.js'

/**
 * The vocabulary every layer of the upstream client speaks: what a call is made as, what it asks
 * for, what Visual Layer answered. A layer wraps the next one as undici's interceptors wrap
 * `dispatch`: it takes a `Dispatch` (or `Send`) and gives one back with the same shape.
 */

/** The credential an upstream call is made with. */
export type Credential =
  | { readonly kind: 'service' }
  /** No credential: only for documents that never reach Visual Layer (schema introspection). */
  | { readonly kind: 'anonymous' }
  | {
    readonly kind: 'bearer'
    /** The caller's own Visual Layer JWT, forwarded unchanged. */
    readonly token: string
    /** Its `sub` (the API key), as the token claims it: not verified by the gateway. */
    readonly subject: string
    /** SHA-256 of the token, to key state without keeping the token itself. */
    readonly fingerprint: string
    readonly expiresAt: number
  }

/**
 * How one call is made. Callers always name a credential; inside the client `C` widens to admit
 * null, the health check's "no credential at all".
 */
export interface CallOptions<C extends Credential | null = Credential> {
  credential: C
  requestId?: string
  /** The caller's cancellation: aborts the upstream call. */
  signal?: AbortSignal
  /** The operation's allowance of upstream calls; every request sent takes one. */
  budget?: CallBudget
  /** Resolves when the call may be sent (live status: the poll ceiling's turn); see layers/pace.ts. */
  pace?: (signal: AbortSignal | undefined) => Promise<void>
}

/** What a read is about, so that a write can tell which reads in flight it made stale. */
export interface Resource {
  readonly kind: 'dataset' | 'dataset-list' | 'creation-status' | 'models' | 'enrichment-context' | 'task-list' | 'task-filters' | 'health'
  /** The dataset the resource belongs to, when it belongs to one. */
  readonly datasetId?: string
}

export type Query = Record<string, string | number | boolean | undefined>

/** One request to Visual Layer, its path relative to the configured base URL. */
export type UpstreamRequest = {
  readonly path: string
  /** The path as Visual Layer documents it, ids as placeholders (`/api/v1/dataset/{dataset_id}`): a bounded metric label and span name. */
  readonly endpoint: string
  /** What the call is about, for people: "dataset 4f1c...", "the task list". */
  readonly what: string
} & (
  | { readonly method: 'GET', readonly query?: Query, readonly resource: Resource }
  | { readonly method: 'POST', readonly body?: unknown }
)

/** One logical call: a request, how it is made, and how to name it when it fails. */
export interface Exchange {
  readonly request: UpstreamRequest
  readonly call: CallOptions<Credential | null>
  readonly failed: FailedCall
}

/** One logical call once its overall deadline runs: every try of it shares this deadline. */
export interface Attempt extends Exchange {
  /** Aborts on the deadline or the caller's cancel, whichever comes first. */
  readonly signal: AbortSignal
  /** Whether the deadline has passed: tells a timeout from a cancel. */
  readonly deadline: { readonly passed: boolean }
  /** When the deadline falls, on the `performance.now()` clock. */
  readonly endsAt: number
}

/** What Visual Layer answered, whatever the status. */
export interface Answer {
  readonly status: number
  readonly body: unknown
  /** The token the request was sent with (to drop a refused service token). */
  readonly token: string | null
  readonly retryAfter: string | string[] | undefined
}

/** A logical call, from its start to its final answer. */
export type Dispatch = (exchange: Exchange) => Promise<Answer>

/** One try of a logical call. */
export type Send = (attempt: Attempt) => Promise<Answer>

export function queryString (query: Query | undefined): string {
  if (query === undefined) return ''
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) params.set(key, String(value))
  }
  const text = params.toString()
  return text === '' ? '' : `?${text}`
}

/** Stacks layers over an inner dispatch; the first layer is the outermost, the first a call meets. */
export function stack<D> (...layers: Array<(next: D) => D>): (inner: D) => D {
  return (inner) => layers.reduceRight((next, layer) => layer(next), inner)
}
