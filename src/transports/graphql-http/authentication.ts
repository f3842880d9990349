import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Auth, Caller } from '../../auth/index.js'
import { introspectsOnly } from '../../graphql/trusted-documents.js'
import { authenticateRequest, refuseGraphQLCaller } from '../authenticate.js'
import { limitAnonymousBody } from './anonymous-body.js'

/*
 * HTTP: every GraphQL request is authenticated before the pipeline runs it. A request with an
 * Authorization header is checked before its body is read. One without a header is refused too,
 * unless its document only introspects the schema (GraphiQL's first request, sent before the user
 * could type a header): the schema is the public contract and asks Visual Layer nothing.
 *
 * Registered inside the graphql-http plugin, its hooks run for that plugin's routes only.
 */

/** A caller without a token, let through only for documents that never reach Visual Layer. */
const ANONYMOUS: Caller = Object.freeze({ credential: Object.freeze({ kind: 'anonymous' }), expiresAt: null, subject: null })

/** `introspection`: whether the schema may be asked at all; when not, a request without a token is always refused. */
/** `textOf`: the request's document text (a document id's, when it names one). */
export function registerHttpAuth (
  app: FastifyInstance, auth: Auth, maxTokens: number, introspection: boolean, textOf: (request: FastifyRequest) => unknown
): void {
  app.decorateRequest('caller', null)
  const authenticate = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> =>
    await authenticateRequest(auth, request, reply, refuseGraphQLCaller)
  app.addHook('onRequest', async (request, reply) => {
    // Without a header, the document decides (below), once the body is read; with introspection off
    // no document could pass, and the request is refused before its body is read.
    if (introspection && auth.mode !== 'none' && request.headers.authorization === undefined) return
    return await authenticate(request, reply)
  })
  app.addHook('preParsing', async (request, _reply, payload) => {
    if (auth.mode === 'none' || request.headers.authorization !== undefined) return payload
    return limitAnonymousBody(payload, request.headers['content-length'])
  })
  app.addHook('preHandler', async (request, reply) => {
    if (request.caller !== null) return
    if (introspection && introspectsOnly(textOf(request), maxTokens)) {
      request.caller = ANONYMOUS
      return
    }
    return await authenticate(request, reply)
  })
}
