import type { BreakerState } from './circuit-breaker.js'

/*
 * What the upstream client tells whoever watches it (the metrics plugin): each request sent, each
 * retry, each read answered by a call already in flight, each state the breaker reaches. An
 * interface the client is given, rather than events on a process-wide channel (diagnostics_channel):
 * tests run many gateways in one process, and each must count only its own calls. Labels are
 * bounded: `endpoint` is the path template (`/api/v1/dataset/{dataset_id}`), never a raw id.
 */

/** How one request ended: its status code when an answer came, and what went wrong when something did. */
export interface UpstreamResult {
  status: number | null
  /** The status code of a 4xx or 5xx, `timeout`, `cancelled`, `response_too_large`, or the network error's code; null: success. */
  error: string | null
}

export interface UpstreamObserver {
  /** One HTTP request sent and settled. */
  request: (endpoint: string, method: string, result: UpstreamResult, seconds: number) => void
  /** A try about to be sent again (retry layer). */
  retry: (endpoint: string, method: string) => void
  /** A GET answered by an identical one already in flight (shared-reads layer). */
  sharedRead: (endpoint: string) => void
  /** The breaker's state after a try was admitted or judged; called often, report changes only. */
  breaker: (state: BreakerState) => void
}

export const NO_UPSTREAM_OBSERVER: UpstreamObserver = {
  request: () => {},
  retry: () => {},
  sharedRead: () => {},
  breaker: () => {}
}
