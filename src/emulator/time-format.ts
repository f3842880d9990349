/**
 * Visual Layer writes two timestamp formats: datasets use a zone-less UTC time with microseconds
 * (`2025-04-24T07:44:46.136915`), tasks a UTC time to the second with `Z` (`2026-03-01T14:30:00Z`).
 */

/** `micros` (0..999) supplies the three digits JavaScript time lacks, so seeded values look real. */
export function formatDatasetTime (ms: number, micros = 0): string {
  const iso = new Date(ms).toISOString() // 2025-04-24T07:44:46.136Z
  return `${iso.slice(0, 23)}${String(micros).padStart(3, '0')}`
}

export function formatTaskTime (ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`
}

/** Call-log and control-API times keep milliseconds: they are the emulator's own, not Visual Layer's. */
export function formatIso (ms: number): string {
  return new Date(ms).toISOString()
}

export type DatetimeParse = { ok: true; ms: number } | { ok: false; error: string }

const DATETIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt _](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?)?(Z|z|[+-]\d{2}:?\d{2})?$/

/**
 * Parses a query datetime the way FastAPI (pydantic) accepts it: ISO 8601 date or date-time,
 * zone optional (naive means UTC here), or a Unix timestamp in seconds (milliseconds when large).
 * The error texts follow pydantic's for the common cases.
 */
export function parseQueryDatetime (input: string): DatetimeParse {
  if (/^-?\d+(\.\d+)?$/.test(input)) {
    const value = Number(input)
    // pydantic reads numbers above 2e10 as milliseconds.
    return { ok: true, ms: Math.abs(value) > 2e10 ? value : value * 1000 }
  }
  if (input.length < 10) return { ok: false, error: 'input is too short' }
  if (!/^\d{4}/.test(input)) return { ok: false, error: 'invalid character in year' }
  const match = DATETIME.exec(input)
  if (match === null) return { ok: false, error: 'invalid datetime format' }
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone] = match
  const month = Number(mo)
  const day = Number(d)
  if (month < 1 || month > 12) return { ok: false, error: 'month value is outside expected range of 1-12' }
  const base = Date.UTC(Number(y), month - 1, day, Number(h), Number(mi), Number(s), Number(frac.padEnd(3, '0').slice(0, 3)))
  if (Number.isNaN(base) || new Date(base).getUTCDate() !== day) return { ok: false, error: 'day value is outside expected range' }
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return { ok: false, error: 'invalid time value' }
  let offsetMinutes = 0
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1
    const digits = zone.slice(1).replace(':', '')
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)))
  }
  return { ok: true, ms: base - offsetMinutes * 60_000 }
}
