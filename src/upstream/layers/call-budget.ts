import { budgetExceededError } from '../errors.js'
import type { Send } from '../exchange.js'

/*
 * The operation's allowance of upstream calls, checked before every try (retries and a renewed
 * service token included): once it is spent nothing more is sent. The try that is sent takes its
 * share in send.ts, after the breaker has let it through.
 */

export function callBudget (): (next: Send) => Send {
  return (next) => async (attempt) => {
    const budget = attempt.call.budget
    if (budget?.exhausted === true) throw budgetExceededError(attempt.failed, budget.max)
    return await next(attempt)
  }
}
