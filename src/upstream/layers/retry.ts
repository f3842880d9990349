import type { FastifyBaseLogger } from 'fastify'
import { UpstreamNetworkError } from '../errors.js'
import type { Answer, Attempt, Dispatch, Send } from '../exchange.js'
import type { UpstreamObserver } from '../observer.js'
import { backoffMs, RETRYABLE_STATUSES, retryAfterMs, type RetryBudget } from '../retry-policy.js'
import { startDeadline } from '../send.js'

/*
 * One logical call inside one overall deadline: an idempotent GET is tried again while Visual Layer
 * says "try again" (network failure, 429, 502, 503, 504), after Retry-After or a full-jitter
 * backoff, as long as the retry count, the deadline, the operation's call budget and the gateway's
 * retry budget allow. A POST is sent once. The shape of undici's lib/interceptor/retry.js.
 */

export interface RetryOptions {
  /** Retries after the first try (UPSTREAM_RETRIES). */
  retries: number
  timeoutMs: number
  budget: RetryBudget
  log: FastifyBaseLogger
  observer?: UpstreamObserver
}

/** Full-jitter backoff between GET retries, when Visual Layer gives no Retry-After. */
const BACKOFF = { baseMs: 100, capMs: 2_000 }

export function retry (options: RetryOptions): (next: Send) => Dispatch {
  /**
   * Only GETs; within the retry count, the overall deadline, the operation's call budget (spent, the
   * caller gets the failure itself rather than a refusal) and the gateway's retry budget.
   */
  const mayRetry = (attempt: Attempt, retries: number, wait: number): boolean =>
    attempt.request.method === 'GET' && retries < options.retries && performance.now() + wait < attempt.endsAt &&
    attempt.call.budget?.exhausted !== true && options.budget.tryRetry()

  return (next) => async (exchange) => {
    // Every try of this call gets this same object: layers below may keep per-call state by it.
    const attempt = startDeadline(exchange, options.timeoutMs)
    options.budget.recordCall()
    try {
      return await tries(next, attempt)
    } finally {
      attempt.end()
    }
  }

  async function tries (next: Send, attempt: Attempt): Promise<Answer> {
    let retries = 0
    while (true) {
      let wait: number
      try {
        const answer = await next(attempt)
        wait = retryAfterMs(answer.retryAfter) ?? backoffMs(retries, BACKOFF)
        if (!RETRYABLE_STATUSES.has(answer.status) || !mayRetry(attempt, retries, wait)) return answer
      } catch (err) {
        if (!(err instanceof UpstreamNetworkError)) throw err
        wait = backoffMs(retries, BACKOFF)
        if (!err.retryable || !mayRetry(attempt, retries, wait)) throw err
      }
      retries++
      options.observer?.retry(attempt.request.endpoint, attempt.request.method)
      options.log.debug({
        requestId: attempt.call.requestId,
        upstream: { method: attempt.request.method, path: attempt.request.path },
        retry: retries,
        waitMs: wait
      }, 'retrying upstream call')
      await sleep(wait, attempt.signal)
    }
  }
}

async function sleep (ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) throw signal.reason
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => { clearTimeout(timer); reject(signal.reason) }
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve() }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
