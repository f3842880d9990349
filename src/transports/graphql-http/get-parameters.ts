/*
 * The GraphQL parameters of a GET's query string, each of which must be given once. Fastify reads a
 * repeated parameter as a list of its values while graphql-sse (and any library reading the URL
 * with URLSearchParams.get) takes the first: a check of one reading and a run of the other let
 * `?query=<a>&query=<b>` past the trusted documents check. So a repeat is refused on every GET door
 * (GraphQL over HTTP, SSE) before either reads it.
 */

export const GRAPHQL_GET_PARAMETERS = ['query', 'operationName', 'variables', 'extensions', 'documentId'] as const

/** Why the query string cannot be read (a parameter of `names` given more than once), or null. */
export function repeatedParameter (query: unknown, names: readonly string[] = GRAPHQL_GET_PARAMETERS): string | null {
  if (typeof query !== 'object' || query === null) return null
  for (const name of names) {
    const value = (query as Record<string, unknown>)[name]
    if (Array.isArray(value)) return `The "${name}" parameter is given ${value.length} times: send it once.`
    if (value !== undefined && typeof value !== 'string') return `The "${name}" parameter must be text, given once.`
  }
  return null
}
