import type { FastifyRequest } from 'fastify'
import { TOKEN_QUERY_KEY } from 'graphql-sse'
import type { DocumentParams, TrustedDocuments } from '../../graphql/trusted-documents.js'
import { paramsOf } from '../graphql-parameters.js'

/**
 * The URL graphql-sse reads (a GET's document is in it), once a trusted document's id is replaced by
 * its text: graphql-sse requires a "query". A GET's URL is written anew from the parameters Fastify
 * read and the checks saw, so that graphql-sse (which reads the URL itself) can read nothing else.
 * A refused id leaves a "query" of "" and its refusal on the request, answered as the operation's result.
 */
export function resolveDocument (trusted: TrustedDocuments, request: FastifyRequest): string {
  if (request.method !== 'GET' && request.method !== 'POST') return request.url
  const params: DocumentParams = request.method === 'GET' ? paramsOf(request) : typeof request.body === 'object' && request.body !== null ? request.body : {}
  const resolution = trusted.resolve(params)
  if (resolution.refused !== undefined) request.documentRefusal = resolution.refused
  const text = resolution.refused === undefined ? resolution.query : ''
  if (request.method === 'POST') {
    if (typeof text === 'string' && text !== params.query) (request.body as { query?: unknown }).query = text
    return request.url
  }
  const given = request.query as Partial<Record<string, string>>
  const search = new URLSearchParams()
  if (typeof text === 'string') search.set('query', text)
  for (const name of ['operationName', 'variables', 'extensions', TOKEN_QUERY_KEY]) {
    const value = given[name]
    if (value !== undefined) search.set(name, value)
  }
  const path = request.url.split('?')[0] ?? ''
  return search.size === 0 ? path : `${path}?${search.toString()}`
}
