import type { FastifyInstance } from 'fastify'
import { forcesPreflight, PREFLIGHT_HEADERS } from '../cross-site.js'

/*
 * Cross-site request forgery prevention, as Apollo Router and Apollo Server do it: a request a
 * browser may have sent from another site without asking first (see cross-site.ts) is refused. The
 * WebSocket upgrade of /graphql is not a route of this plugin, and /graphql/stream (SSE) only
 * subscribes.
 *
 * Written here rather than with a library's (Mercurius' csrfPrevention, for one): that one lists the content types it
 * allows instead of the ones a browser sends freely, counts no Authorization header, and its refusal
 * does not say what to send.
 */

const REFUSAL = 'This request could come from another website (a GET, or a POST of text/plain or form data, with no header that makes a browser ask ' +
  'the gateway first), so it is refused to prevent cross-site request forgery. Send a POST with Content-Type: application/json, or add one of ' +
  `these headers: ${PREFLIGHT_HEADERS.join(', ')} (e.g. graphql-preflight: 1).`

export function registerCsrfPrevention (app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    if (forcesPreflight(request.headers)) return
    // Logged once, as the operation's line (src/plugins/operations.ts), at info with the reason.
    return await reply.code(400).send({ data: null, errors: [{ message: REFUSAL, extensions: { code: 'QUERY_REJECTED', requestId: String(request.id) } }] })
  })
}
