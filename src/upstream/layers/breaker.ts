import type { BreakerState, CircuitBreaker } from '../breaker.js'
import { breakerOpenError, UpstreamNetworkError } from '../errors.js'
import type { Send } from '../exchange.js'

/*
 * The circuit breaker around each try: refused without sending while Visual Layer is down, and
 * told what each try said of its health. Only what says Visual Layer itself is unavailable counts
 * as down: no connection, a timeout, 502, 503 or 504. A 500 (or another 5xx) answers one path: a
 * caller who can provoke it on their own dataset must not make the gateway fail fast for every
 * other caller, so it gives no verdict, like a 429 or a cancel. Anything else says it is up.
 * `onState` hears the state after each admission and each verdict (metrics count its changes).
 */

const UNAVAILABLE = new Set([502, 503, 504])

export function breaker (state: CircuitBreaker, onState: (state: BreakerState) => void = () => {}): (next: Send) => Send {
  return (next) => async (attempt) => {
    const admitted = state.admit()
    onState(state.state)
    if (!admitted) throw breakerOpenError(attempt.failed, state.retryInMs)
    let answer
    try {
      answer = await next(attempt)
    } catch (err) {
      if (err instanceof UpstreamNetworkError) state.failed()
      else state.released()
      onState(state.state)
      throw err
    }
    if (UNAVAILABLE.has(answer.status)) state.failed()
    else if (answer.status === 429 || answer.status >= 500) state.released()
    else state.succeeded()
    onState(state.state)
    return answer
  }
}
