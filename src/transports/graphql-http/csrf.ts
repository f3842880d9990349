import type { FastifyInstance } from 'fastify'

/*
 * Cross-site request forgery prevention, as Apollo Router and Apollo Server do it. A browser sends a
 * GET, or a POST whose content type is text/plain or a form type, to any site without asking it first
 * (no CORS preflight), with whatever credentials it holds for that site. Such a request is refused
 * unless it carries a header a browser cannot add without a preflight: one of PREFLIGHT_HEADERS, or a
 * content type outside the simple ones (application/json, application/graphql). The WebSocket
 * upgrade of /graphql is not a route of this plugin, and /graphql/stream (SSE) only subscribes.
 *
 * Written here rather than with Mercurius' csrfPrevention: that one lists the content types it
 * allows instead of the ones a browser sends freely, counts no Authorization header, and its refusal
 * does not say what to send.
 */

/** The content types a browser may send in a form or a simple fetch (the Fetch standard's CORS-safelisted ones). */
const SIMPLE_CONTENT_TYPES: ReadonlySet<string> = new Set(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data'])

/**
 * Headers that force a browser to ask first: Apollo's two (Apollo Client, GraphiQL set them), a
 * neutral one, and Authorization, which a browser never adds to a cross-site request by itself for
 * a Bearer token (the only scheme this gateway accepts).
 */
export const PREFLIGHT_HEADERS = ['apollo-require-preflight', 'x-apollo-operation-name', 'graphql-preflight', 'authorization'] as const

const REFUSAL = 'This request could come from another website (a GET, or a POST of text/plain or form data, with no header that makes a browser ask ' +
  'the gateway first), so it is refused to prevent cross-site request forgery. Send a POST with Content-Type: application/json, or add one of ' +
  `these headers: ${PREFLIGHT_HEADERS.join(', ')} (e.g. graphql-preflight: 1).`

function forcesPreflight (headers: Record<string, string | string[] | undefined>): boolean {
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

export function registerCsrfPrevention (app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    if (forcesPreflight(request.headers)) return
    // Logged once, as the operation's line (src/plugins/operations.ts), at info with the reason.
    return await reply.code(400).send({ data: null, errors: [{ message: REFUSAL, extensions: { code: 'QUERY_REJECTED', requestId: String(request.id) } }] })
  })
}
