import type { Dispatch } from '../exchange.js'

/*
 * Calls made for live status wait their turn under the gateway's poll ceiling: a subscription's
 * own reads (the nested fields of an event, the checks when it starts) are paced like its poller's
 * polls, so however many subscribers watch, Visual Layer sees at most MAX_POLLS_PER_SECOND calls a
 * second from them. One turn per logical call: it sits below the shared reads (a read joined to one
 * in flight sends nothing and waits for nothing) and the caller-token check (a refused token waits
 * for nothing), and above the retries, whose deadline starts once
 * the turn is granted (retries are held back by the retry budget instead).
 */

export function pace (): (next: Dispatch) => Dispatch {
  return (next) => async (exchange) => {
    const { pace } = exchange.call
    if (pace !== undefined) await pace(exchange.call.signal)
    return await next(exchange)
  }
}
