import type { FastifyRequest } from 'fastify'
import type { DocumentParams } from '../graphql/trusted-documents.js'

/*
 * The parameters of a GraphQL request over HTTP, as both HTTP doors of GraphQL (GraphQL over HTTP,
 * SSE) read them: from a POST's body or a GET's query string, each of which must be given once. Fastify reads a
 * repeated parameter as a list of its values while graphql-sse (and any library reading the URL
 * with URLSearchParams.get) takes the first: a check of one reading and a run of the other let
 * `?query=<a>&query=<b>` past the trusted documents check. So a repeat is refused on every GET door
 * (GraphQL over HTTP, SSE) before either reads it.
 */

declare module 'fastify' {
  interface FastifyRequest {
    /** Why the request's document id (or, with TRUSTED_DOCUMENTS_ONLY, its text) is refused; each door answers it after authentication. */
    documentRefusal: string | null
  }
}

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

/** The document, id and extensions of a POST body or of a GET query string (where extensions are a JSON text). */
export function paramsOf (request: FastifyRequest): DocumentParams {
  const body = request.body
  if (typeof body === 'object' && body !== null) return body as DocumentParams
  const query = (request.query ?? {}) as { query?: unknown, documentId?: unknown, extensions?: unknown }
  let extensions: unknown
  try {
    extensions = typeof query.extensions === 'string' ? JSON.parse(query.extensions) : undefined
  } catch {
    // The door answers a GET's malformed extensions itself (graphql-sse's reading of them; GraphQL over HTTP's parameters.ts).
  }
  return { query: query.query, documentId: query.documentId, extensions }
}
