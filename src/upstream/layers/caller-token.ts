import { tokenRefusedEarlierError, type FailedCall } from '../errors.js'
import type { Credential, Dispatch } from '../exchange.js'
import { TokenGate } from '../token-gate.js'

/*
 * What Visual Layer said of a caller's own token, used and recorded around each logical call: a
 * token it refused is not sent again; one it has not accepted yet makes one call at a time (the
 * gate); the final answer of a call that proves something is reported before the next one goes.
 */

export type Standing = 'proven' | 'unproven' | 'refused'

export interface CallerTokenOptions {
  /** What Visual Layer said of the token so far. */
  standingOf: (credential: Credential) => Standing
  /** Told whether Visual Layer accepted or refused (401) the token. */
  onVerdict: (credential: Credential, accepted: boolean) => void
}

export function callerToken (options: CallerTokenOptions): (next: Dispatch) => Dispatch {
  const gate = new TokenGate()

  /**
   * A refused token throws; an unproven one waits for its turn (one call at a time), and is checked
   * again then: the call before may have settled it.
   */
  const admit = async (credential: Credential | null, signal: AbortSignal | undefined, failed: FailedCall): Promise<() => void> => {
    const none = (): void => {}
    if (credential?.kind !== 'bearer') return none
    const before = options.standingOf(credential)
    if (before === 'refused') throw tokenRefusedEarlierError(failed)
    if (before === 'proven') return none
    const release = await gate.acquire(credential.fingerprint, signal)
    const now = options.standingOf(credential)
    if (now === 'unproven') return release
    release()
    if (now === 'refused') throw tokenRefusedEarlierError(failed)
    return none
  }

  return (next) => async (exchange) => {
    const { credential } = exchange.call
    const release = await admit(credential, exchange.call.signal, exchange.failed)
    try {
      const answer = await next(exchange)
      if (credential?.kind === 'bearer' && provesToken(answer.status)) options.onVerdict(credential, answer.status !== 401)
      return answer
    } finally {
      release()
    }
  }
}

/**
 * Statuses Visual Layer answers only once it has checked the token (or with 401, refused it): a 429
 * or 5xx may come from a proxy or limiter in front, and says nothing.
 */
function provesToken (status: number): boolean {
  return status < 500 && status !== 429
}
