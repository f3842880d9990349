/**
 * The wait a rate-limit refusal names, from its Retry-After (whole seconds): "1 minute" when the window
 * is whole, "59 seconds" once a second of it has passed (a busy machine may take that long between the
 * request that opened the window and the refused one). The gateway words it from the same seconds.
 */
export function tryAgainIn (retryAfter: string | number | null | undefined): string {
  const seconds = Number(retryAfter)
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 60) throw new Error(`Retry-After ${String(retryAfter)}: expected 1 to 60 seconds`)
  return seconds === 60 ? '1 minute' : `${seconds} second${seconds === 1 ? '' : 's'}`
}
