import type { BreakerState } from '../circuit-breaker.js'
import type { Breakers } from '../breakers.js'
import { breakerOpenError, UpstreamNetworkError } from '../errors.js'
import type { Credential, Send } from '../exchange.js'

/*
 * The circuit breakers around each try (breakers.ts): refused without sending while the call's own
 * (account, route) breaker or the shared one is open, and each told what the try said of Visual
 * Layer's health. Only what says Visual Layer itself is unavailable counts as down: no connection, a
 * timeout, 502, 503 or 504. A 500 (or another 5xx) answers one path: a caller who can provoke it on
 * their own dataset must not make the gateway fail fast for anyone, so it gives no verdict, like a 429
 * or a cancel. Anything else says it is up. `onState` hears the shared state after each admission and
 * each verdict (metrics count its changes).
 */

const UNAVAILABLE = new Set([502, 503, 504])

/** Who a call is made as, for the breakers: the API key a caller's token claims, or the service account. */
export function principalOf (credential: Credential | null): string {
  if (credential === null) return 'none'
  return credential.kind === 'bearer' ? `sub:${credential.subject}` : credential.kind
}

export function breaker (breakers: Breakers, onState: (state: BreakerState) => void = () => {}): (next: Send) => Send {
  return (next) => async (attempt) => {
    const admission = breakers.admit(principalOf(attempt.call.credential), `${attempt.request.method} ${attempt.request.endpoint}`)
    onState(breakers.state)
    if (!admission.admitted) throw breakerOpenError(attempt.failed, admission.retryInMs, admission.scoped)
    let answer
    try {
      answer = await next(attempt)
    } catch (err) {
      admission.verdict(err instanceof UpstreamNetworkError ? 'failed' : 'released')
      onState(breakers.state)
      throw err
    }
    admission.verdict(UNAVAILABLE.has(answer.status) ? 'failed' : answer.status === 429 || answer.status >= 500 ? 'released' : 'succeeded')
    onState(breakers.state)
    return answer
  }
}
