import { AsyncLocalStorage } from 'node:async_hooks'

/*
 * A caller's W3C trace context, passed on to Visual Layer when the gateway makes no span of its own
 * (tracing off, or the operation not sampled). W3C Trace Context asks every participant to forward
 * `traceparent` and `tracestate` even when it does not trace: without it a frontend's trace would stop
 * at the gateway. With tracing on, the gateway's own client span is the parent instead (send.ts).
 * The context is held for the request's asynchronous work (AsyncLocalStorage) only when the caller
 * sent a valid `traceparent`, so a request without one costs a header lookup.
 */

export interface IncomingTrace {
  readonly traceparent: string
  readonly tracestate?: string
}

const store = new AsyncLocalStorage<IncomingTrace>()

/** version-traceid-parentid-flags, lower-case hex (W3C Trace Context, level 1). */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/
/** W3C: a participant propagates at least 512 characters of tracestate; a longer one is dropped whole here. */
const MAX_TRACESTATE = 512

/** The trace context of request headers when `traceparent` is valid (not version ff, no all-zero id), else null. */
export function incomingTrace (headers: Record<string, string | string[] | undefined>): IncomingTrace | null {
  const traceparent = headers.traceparent
  if (typeof traceparent !== 'string') return null
  const match = TRACEPARENT.exec(traceparent)
  if (match === null || match[1] === 'ff' || /^0+$/.test(match[2] ?? '') || /^0+$/.test(match[3] ?? '')) return null
  const tracestate = headers.tracestate
  return typeof tracestate === 'string' && tracestate !== '' && tracestate.length <= MAX_TRACESTATE ? { traceparent, tracestate } : { traceparent }
}

/** Runs `work` (and everything it starts) with `trace` as the caller's trace context. */
export function withIncomingTrace<T> (trace: IncomingTrace, work: () => T): T {
  return store.run(trace, work)
}

/** The caller's trace context of the work running now, if it sent one. */
export function currentIncomingTrace (): IncomingTrace | undefined {
  return store.getStore()
}
