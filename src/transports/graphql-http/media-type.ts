import type { FastifyInstance } from 'fastify'

/*
 * GraphQL over HTTP's two response media types. `application/graphql-response+json` when the Accept
 * header prefers it: then a request that could not run (a 4xx) carries no `data` entry, as that media
 * type asks. `application/json` otherwise, with the gateway's documented shape (`data: null` beside
 * the errors), which existing clients read. The status codes are the same under both: 400 for a
 * document that could not run, 200 once it ran (see docs/graphql.md, "GraphQL over HTTP"). Registered inside the
 * graphql-http plugin: its routes only.
 */

export const GRAPHQL_RESPONSE = 'application/graphql-response+json'
const JSON_TYPE = 'application/json'

declare module 'fastify' {
  interface FastifyRequest {
    /** The client prefers application/graphql-response+json. */
    wantsGraphQLResponse: boolean
  }
}

interface Range { type: string, q: number, index: number }

/** The header's media ranges with their weights (RFC 9110, 12.5.1). */
function ranges (accept: string): Range[] {
  return accept.split(',').map((part, index) => {
    const [type = '', ...params] = part.split(';').map((piece) => piece.trim().toLowerCase())
    const q = params.find((param) => param.startsWith('q='))
    const weight = q === undefined ? 1 : Number(q.slice(2))
    return { type, q: Number.isFinite(weight) ? weight : 0, index }
  })
}

/** The weight given to `type` by its most specific range, and where that range is (Infinity for a wildcard). */
function weightOf (type: string, given: readonly Range[]): { q: number, index: number } {
  const exact = given.find((range) => range.type === type)
  if (exact !== undefined) return { q: exact.q, index: exact.index }
  const wildcard = given.find((range) => range.type === 'application/*') ?? given.find((range) => range.type === '*/*')
  return { q: wildcard?.q ?? 0, index: Infinity }
}

/**
 * Whether the client prefers the GraphQL response media type: a higher weight, or the same weight
 * and named first. A wildcard, no header or a header naming neither type gets application/json.
 * Written here rather than with a negotiation library: two candidates, one rule.
 */
export function prefersGraphQLResponse (accept: string | undefined): boolean {
  if (accept === undefined || accept === '') return false
  const given = ranges(accept)
  const graphql = weightOf(GRAPHQL_RESPONSE, given)
  const json = weightOf(JSON_TYPE, given)
  if (graphql.q <= 0) return false
  return graphql.q > json.q || (graphql.q === json.q && graphql.index < json.index)
}

export function registerMediaTypes (app: FastifyInstance): void {
  app.decorateRequest('wantsGraphQLResponse', false)
  app.addHook('onRequest', async (request) => {
    request.wantsGraphQLResponse = prefersGraphQLResponse(request.headers.accept)
  })
  app.addHook('preSerialization', async (request, reply, payload: unknown) => {
    if (!request.wantsGraphQLResponse) return payload
    reply.type(`${GRAPHQL_RESPONSE}; charset=utf-8`)
    // A request error: the operation never ran, so there is no data entry at all.
    if (reply.statusCode >= 400 && typeof payload === 'object' && payload !== null && 'data' in payload && payload.data === null) {
      const { data: _data, ...rest } = payload
      return rest
    }
    return payload
  })
}
