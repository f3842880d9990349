/*
 * What tells a request a browser may have sent from another site without asking first (no CORS
 * preflight): a GET, or a POST whose content type is text/plain or a form type, with whatever
 * credentials the browser holds for this site. Such a request carries no header a browser adds only
 * after a preflight: one of PREFLIGHT_HEADERS, or a content type outside the simple ones. Both doors
 * that write refuse it: GraphQL over HTTP (graphql-http/csrf.ts) and REST's POSTs (rest/plugin.ts).
 */

/** The content types a browser may send in a form or a simple fetch (the Fetch standard's CORS-safelisted ones). */
const SIMPLE_CONTENT_TYPES: ReadonlySet<string> = new Set(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data'])

/**
 * Headers that force a browser to ask first: Apollo's two (Apollo Client, GraphiQL set them), a
 * neutral one, and Authorization, which a browser never adds to a cross-site request by itself for
 * a Bearer token (the only scheme this gateway accepts).
 */
export const PREFLIGHT_HEADERS = ['apollo-require-preflight', 'x-apollo-operation-name', 'graphql-preflight', 'authorization'] as const

/** Whether a browser could have sent these headers only after a CORS preflight. */
export function forcesPreflight (headers: Record<string, string | string[] | undefined>): boolean {
  const contentType = headers['content-type']
  if (typeof contentType === 'string') {
    const type = contentType.split(';')[0]?.trim().toLowerCase() ?? ''
    if (type !== '' && !SIMPLE_CONTENT_TYPES.has(type)) return true
  }
  return PREFLIGHT_HEADERS.some((name) => {
    const value = headers[name]
    return value !== undefined && value !== ''
  })
}
