import type { CircuitBreaker } from '../breaker.js'
import { breakerOpenError, UpstreamNetworkError } from '../errors.js'
import type { Send } from '../exchange.js'

/*
 * The circuit breaker around each try: refused without sending while Visual Layer is down, and
 * told what each try said of its health (a network failure or 5xx: down; 429 or a cancel: no
 * verdict; anything else: up).
 */

export function breaker (state: CircuitBreaker): (next: Send) => Send {
  return (next) => async (attempt) => {
    if (!state.admit()) throw breakerOpenError(attempt.failed, state.retryInMs)
    let answer
    try {
      answer = await next(attempt)
    } catch (err) {
      if (err instanceof UpstreamNetworkError) state.failed()
      else state.released()
      throw err
    }
    if (answer.status >= 500) state.failed()
    else if (answer.status === 429) state.released()
    else state.succeeded()
    return answer
  }
}
