import { createHash } from 'node:crypto'

/*
 * Conditional GETs, for every door that answers them (REST under /v1, GraphQL over HTTP's GET): a
 * strong ETag over the exact bytes sent, and If-None-Match compared as RFC 9110 says. The ETag is the
 * answer's own: two callers get the same one only for the same bytes, so a 304 never tells a caller
 * that another scope's data is its own, and nothing is kept between requests.
 */

/** A strong ETag of `body` (and of its media type, when a door answers one text in several). */
export function etagOf (body: string, mediaType = ''): string {
  const hash = createHash('sha256')
  if (mediaType !== '') hash.update(`${mediaType}\n`)
  return `"${hash.update(body).digest('base64url').slice(0, 27)}"`
}

/** RFC 9110 §13.1.2: If-None-Match compares weakly, `*` matches any current representation. */
export function matches (ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false
  const opaque = etag.replace(/^W\//, '')
  return ifNoneMatch.split(',').some((candidate) => {
    const tag = candidate.trim()
    return tag === '*' || tag.replace(/^W\//, '') === opaque
  })
}

/** How a conditional GET's answer may be kept: by the caller only (never a shared cache), asked again before reuse. */
export const CONDITIONAL_CACHE_CONTROL = 'private, no-cache'
