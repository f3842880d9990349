/*
 * When and how long to wait before retrying an idempotent GET. Only failures that say "try again"
 * are retried (network errors, 429, 502, 503, 504); the wait is full-jitter exponential backoff, or
 * Visual Layer's Retry-After when it gives one; and a budget keeps retries a small share of traffic,
 * so that during an outage the gateway does not multiply the load on Visual Layer.
 */

export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504])

export interface BackoffOptions {
  baseMs: number
  capMs: number
  random?: () => number
}

/** Full jitter: a uniform wait between 0 and min(cap, base * 2^attempt). */
export function backoffMs (attempt: number, options: BackoffOptions): number {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** attempt)
  return Math.floor((options.random ?? Math.random)() * ceiling)
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs (header: string | string[] | undefined, now: number = Date.now()): number | null {
  const value = Array.isArray(header) ? header[0] : header
  if (value === undefined || value.trim() === '') return null
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? null : Math.max(0, at - now)
}

/**
 * Retries may be at most `ratio` of the calls of the last `windowMs`, plus a small allowance so
 * that a quiet gateway can still retry its rare failures.
 */
export class RetryBudget {
  private readonly calls: number[] = []
  private readonly retries: number[] = []

  constructor (
    private readonly ratio = 0.2,
    private readonly allowance = 10,
    private readonly windowMs = 10_000,
    private readonly now: () => number = () => performance.now()
  ) {}

  recordCall (): void {
    this.calls.push(this.now())
  }

  /** Takes one retry from the budget; false when it is spent. */
  tryRetry (): boolean {
    const now = this.now()
    prune(this.calls, now - this.windowMs)
    prune(this.retries, now - this.windowMs)
    if (this.retries.length >= this.allowance + this.ratio * this.calls.length) return false
    this.retries.push(now)
    return true
  }
}

function prune (times: number[], before: number): void {
  let drop = 0
  while (drop < times.length && (times[drop] as number) < before) drop++
  if (drop > 0) times.splice(0, drop)
}
