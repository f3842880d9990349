/*
 * A point in time as every door reads one from its caller: ISO-8601, a date or a date and time, with a
 * zone or without one (then UTC, as Visual Layer writes it), normalised to UTC with a Z. Errors are
 * plain TypeErrors, so that GraphQL names the argument or variable and REST the parameter.
 */

const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i

function daysIn (year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate()
}

/** The longest ISO-8601 text with nanoseconds and a zone is 35 characters; anything far longer is not one. */
const MAX_DATETIME_LENGTH = 64

/** The UTC text of an ISO-8601 date or date-time, or a TypeError saying why it is none. */
export function parseDateTime (value: unknown): string {
  const match = typeof value === 'string' && value.length <= MAX_DATETIME_LENGTH ? ISO_8601.exec(value.trim()) : null
  if (match === null) {
    throw new TypeError(`DateTime must be an ISO-8601 date or date-time such as 2026-03-01T14:30:00Z; got ${shown(value)}.`)
  }
  const [, year, month, day, hour = '0', minute = '0', second = '0'] = match.map((part) => part ?? undefined) as string[]
  const y = Number(year)
  const m = Number(month)
  // Date.parse would roll 2026-02-30 into March: check each part is a real one first.
  if (m < 1 || m > 12 || Number(day) < 1 || Number(day) > daysIn(y, m) || Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) {
    throw new TypeError(`DateTime ${JSON.stringify(value)} is not a real point in time.`)
  }
  const text = (value as string).trim().replace(' ', 'T').replace(/(\.\d{3})\d+/, '$1')
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/i.test(text) || !text.includes('T') ? text : `${text}Z`
  const ms = Date.parse(zoned)
  if (Number.isNaN(ms)) throw new TypeError(`DateTime ${JSON.stringify(value)} is not a real point in time.`)
  return new Date(ms).toISOString().replace('.000Z', 'Z')
}

/** A bad value as the error quotes it: never at length. */
function shown (value: unknown): string {
  if (typeof value === 'string') return value.length > 80 ? `${JSON.stringify(`${value.slice(0, 80)}...`)} (${value.length} characters)` : JSON.stringify(value)
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 80 ? `a ${Array.isArray(value) ? 'list' : typeof value}` : text
}
