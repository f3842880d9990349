import { createHash } from 'node:crypto'

const HYPHENATED = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const ALLOWED_CHARS = /[0-9a-fA-F-]/

export type UuidParse = { ok: true; uuid: string } | { ok: false; error: string }

/**
 * Parses a path UUID as pydantic does (hyphenated, 32-digit simple, `urn:uuid:` prefix, any case)
 * and returns the canonical lower-case hyphenated form, which is how records are keyed.
 * Error texts follow pydantic's `uuid_parsing` ones.
 */
export function parseUuid (input: string): UuidParse {
  const body = input.toLowerCase().startsWith('urn:uuid:') ? input.slice(9) : input
  for (let i = 0; i < body.length; i++) {
    const char = body[i] as string
    if (!ALLOWED_CHARS.test(char)) {
      return {
        ok: false,
        error: `invalid character: expected an optional prefix of \`urn:uuid:\` followed by [0-9a-fA-F-], found \`${char}\` at ${i + 1}`
      }
    }
  }
  const lower = body.toLowerCase()
  if (HYPHENATED.test(lower)) return { ok: true, uuid: lower }
  if (/^[0-9a-f]{32}$/.test(lower)) {
    return { ok: true, uuid: `${lower.slice(0, 8)}-${lower.slice(8, 12)}-${lower.slice(12, 16)}-${lower.slice(16, 20)}-${lower.slice(20)}` }
  }
  if (lower.includes('-')) {
    const groups = lower.split('-')
    const expected = [8, 4, 4, 4, 12]
    if (groups.length !== 5) return { ok: false, error: `invalid group count: expected 5, found ${groups.length}` }
    const bad = groups.findIndex((group, index) => group.length !== expected[index])
    return { ok: false, error: `invalid group length in group ${bad}: expected ${expected[bad]}, found ${groups[bad]?.length}` }
  }
  return { ok: false, error: `invalid length: expected length 32 for simple format, found ${lower.length}` }
}

/** A deterministic UUID (version 5 layout) for seeded records, so ids are stable across runs. */
export function seededUuid (name: string): string {
  const hex = createHash('sha1').update(`visual-layer-emulator:${name}`).digest('hex').slice(0, 32).split('')
  hex[12] = '5'
  hex[16] = ((parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16)
  const s = hex.join('')
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`
}
