/** A close reason WebSocket can carry (at most 123 bytes, or ws throws): longer ones are cut, with "...". */
export function closeReason (message: string): string {
  const bytes = Buffer.from(message)
  return bytes.length <= 123 ? message : `${bytes.subarray(0, 120).toString().replace(/\uFFFD*$/, '')}...`
}
