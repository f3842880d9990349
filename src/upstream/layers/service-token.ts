import type { Attempt, Send } from '../exchange.js'
import type { ServiceTokens } from '../token.js'

/*
 * Renewal of the service account's token: one Visual Layer refused (401, after a secret rotation or
 * clock skew) is dropped and the try is made once more with a freshly minted one, once per logical
 * call. A caller's own token is never renewed: its refusal is the caller's answer.
 */

export function serviceTokenRenewal (serviceTokens: ServiceTokens | null): (next: Send) => Send {
  return (next) => {
    if (serviceTokens === null) return next
    // The retry layer hands every try of one call the same attempt object: once per call.
    const renewed = new WeakSet<Attempt>()
    return async (attempt) => {
      const answer = await next(attempt)
      if (answer.status !== 401 || attempt.call.credential?.kind !== 'service' || renewed.has(attempt)) return answer
      serviceTokens.invalidate(answer.token ?? '')
      renewed.add(attempt)
      return await next(attempt)
    }
  }
}
