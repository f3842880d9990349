import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Auth, Caller } from '../../auth/index.js'
import { GatewayError } from '../../errors.js'
import { introspectsOnly } from '../../graphql/trusted-documents.js'
import { limitAnonymousBody } from './anonymous-body.js'

/*
 * HTTP: every GraphQL request is authenticated before Mercurius runs it. A request with an
 * Authorization header is checked before its body is read. One without a header is refused too,
 * unless its document only introspects the schema (GraphiQL's first request, sent before the user
 * could type a header): the schema is the public contract and asks Visual Layer nothing.
 *
 * Registered inside the graphql-http plugin, its hooks run for that plugin's routes only.
 */

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null
  }
}

/** A caller without a token, let through only for documents that never reach Visual Layer. */
const ANONYMOUS: Caller = Object.freeze({ credential: Object.freeze({ kind: 'anonymous' }), expiresAt: null, subject: null })

/** A 401 in the gateway's error shape, for every HTTP door (GraphQL over HTTP, SSE). */
export function refuseCaller (request: FastifyRequest, reply: FastifyReply, err: GatewayError): FastifyReply {
  request.log.info({ reason: err.logDetail }, 'caller refused')
  return reply.code(401).header('www-authenticate', 'Bearer').send({
    data: null,
    errors: [{ message: err.message, extensions: { code: err.code, requestId: String(request.id) } }]
  })
}

/** Sets `request.caller` from its Authorization header, or answers the refusal (401) itself. */
export async function authenticateRequest (auth: Auth, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  try {
    request.caller = await auth.authenticate(request.headers.authorization)
    return undefined
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err
    return refuseCaller(request, reply, err)
  }
}

/** `introspection`: whether the schema may be asked at all; when not, a request without a token is always refused. */
export function registerHttpAuth (app: FastifyInstance, auth: Auth, maxTokens: number, introspection: boolean): void {
  app.decorateRequest('caller', null)
  const authenticate = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> =>
    await authenticateRequest(auth, request, reply)
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
    if (introspection && introspectsOnly(documentOf(request), maxTokens)) {
      request.caller = ANONYMOUS
      return
    }
    return await authenticate(request, reply)
  })
}

function documentOf (request: FastifyRequest): unknown {
  const body = request.body
  if (typeof body === 'string') return body
  if (typeof body === 'object' && body !== null && 'query' in body) return body.query
  return (request.query as { query?: unknown } | undefined)?.query
}
