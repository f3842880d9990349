import type { BreakerState, CircuitBreaker } from '../breaker.js'
import { breakerOpenError, UpstreamNetworkError } from '../errors.js'
import type { Send } from '../exchange.js'

/*
 * The circuit breaker around each try: refused without sending while Visual Layer is down, and
 * told what each try said of its health (a network failure or 5xx: down; 429 or a cancel: no
 * verdict; anything else: up). `onState` hears the state after each admission and each verdict
 * (metrics count its changes).
 */

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
    if (answer.status >= 500) state.failed()
    else if (answer.status === 429) state.released()
    else state.succeeded()
    onState(state.state)
    return answer
  }
}
