import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Kind } from 'graphql'
import type { Config } from '../config.js'
import { GatewayError } from '../errors.js'
import { parseDocument } from '../graphql/document.js'
import type { Credential } from '../upstream/client.js'
import { limitAnonymousBody } from '../transports/graphql-http/anonymous-body.js'
import { bearerToken, unauthenticated } from './bearer.js'
import { registerJwt } from './jwt.js'
import { checkVisualLayerToken } from './passthrough.js'
import { CredentialScopes } from './scope.js'

/** Who is calling: the credential the gateway speaks to Visual Layer with, and until when. */
export interface Caller {
  readonly credential: Credential
  /** When the caller's own token expires (ms since the epoch); null when it has none. */
  readonly expiresAt: number | null
  /** The verified subject of a gateway token (jwt mode); null otherwise. */
  readonly subject: string | null
}

export interface Auth {
  readonly mode: Config['authMode']
  readonly scopes: CredentialScopes
  /** Checks an Authorization value (header or WebSocket connection_init); throws UNAUTHENTICATED. */
  authenticate: (authorization: unknown) => Promise<Caller>
}

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null
  }
}

const SERVICE: Caller = Object.freeze({ credential: Object.freeze({ kind: 'service' }), expiresAt: null, subject: null })

export async function createAuth (app: FastifyInstance, config: Config): Promise<Auth> {
  const scopes = new CredentialScopes()
  const mode = config.authMode
  if (mode === 'none') return { mode, scopes, authenticate: async () => SERVICE }

  if (mode === 'passthrough') {
    return {
      mode,
      scopes,
      authenticate: async (authorization) => {
        const token = bearerToken(authorization)
        const claims = checkVisualLayerToken(token, Date.now(), config.jwt.clockToleranceSec)
        const fingerprint = createHash('sha256').update(token).digest('base64url')
        const credential: Credential = { kind: 'bearer', token, subject: claims.sub, fingerprint, expiresAt: claims.expiresAt }
        // Refused by Visual Layer before: refused here, at no cost to it, as any token the gateway refuses.
        if (scopes.standingOf(credential) === 'refused') throw unauthenticated('refused-upstream', 'Visual Layer refused this token: sign a fresh Visual Layer JWT and try again.')
        return { credential, expiresAt: claims.expiresAt, subject: null }
      }
    }
  }

  const verify = await registerJwt(app, config.jwt)
  return {
    mode,
    scopes,
    authenticate: async (authorization) => {
      const claims = await verify(bearerToken(authorization))
      // The caller is verified; Visual Layer is called with the service account.
      return { credential: SERVICE.credential, expiresAt: claims.expiresAt, subject: claims.sub }
    }
  }
}

/** A caller without a token, let through only for documents that never reach Visual Layer. */
const ANONYMOUS: Caller = Object.freeze({ credential: Object.freeze({ kind: 'anonymous' }), expiresAt: null, subject: null })

/**
 * HTTP: every GraphQL request is authenticated before Mercurius runs it. A request with an
 * Authorization header is checked before its body is read. One without a header is refused too,
 * unless its document only introspects the schema (GraphiQL's first request, sent before the user
 * could type a header): the schema is the public contract and asks Visual Layer nothing.
 */
export function registerHttpAuth (app: FastifyInstance, auth: Auth, maxTokens: number): void {
  app.decorateRequest('caller', null)
  const refuse = (request: FastifyRequest, reply: FastifyReply, err: GatewayError): FastifyReply => {
    request.log.info({ reason: err.logDetail }, 'caller refused')
    return reply.code(401).header('www-authenticate', 'Bearer').send({
      data: null,
      errors: [{ message: err.message, extensions: { code: err.code, requestId: String(request.id) } }]
    })
  }
  const authenticate = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    try {
      request.caller = await auth.authenticate(request.headers.authorization)
      return undefined
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err
      return refuse(request, reply, err)
    }
  }
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.url !== '/graphql') return
    // Without a header, the document decides (below), once the body is read.
    if (auth.mode !== 'none' && request.headers.authorization === undefined) return
    return await authenticate(request, reply)
  })
  app.addHook('preParsing', async (request, _reply, payload) => {
    if (request.routeOptions.url !== '/graphql' || auth.mode === 'none' || request.headers.authorization !== undefined) return payload
    return limitAnonymousBody(payload, request.headers['content-length'])
  })
  app.addHook('preHandler', async (request, reply) => {
    if (request.routeOptions.url !== '/graphql' || request.caller !== null) return
    if (isIntrospectionOnly(documentOf(request), maxTokens)) {
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

const INTROSPECTION_FIELDS = new Set(['__schema', '__type', '__typename'])

/** Every operation is a query whose top-level fields are all introspection fields. */
export function isIntrospectionOnly (source: unknown, maxTokens: number): boolean {
  if (typeof source !== 'string' || source.length > 100_000) return false
  let document
  try {
    // Under the gateway's token limit: anyone may send this request.
    document = parseDocument(source, maxTokens)
  } catch {
    return false
  }
  const operations = document.definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION)
  return operations.length > 0 && operations.every((operation) => operation.operation === 'query' &&
    operation.selectionSet.selections.every((selection) => selection.kind === Kind.FIELD && INTROSPECTION_FIELDS.has(selection.name.value)))
}

/**
 * Who a caller is, for per-caller limits: the verified subject in jwt mode, the API key of a token
 * Visual Layer has accepted in passthrough (never an unverified claim: a forged sub must not use up
 * someone's quota), and otherwise the network address.
 */
export function callerKey (auth: Auth, caller: Caller, remoteAddress: string | undefined): string {
  if (caller.subject !== null) return `jwt:${caller.subject}`
  if (caller.credential.kind === 'bearer') {
    const scope = auth.scopes.scopeOf(caller.credential)
    // A token Visual Layer has not accepted yet could be made up at will: it counts against its address.
    if (scope.startsWith('sub:')) return scope
  }
  return `address:${remoteAddress ?? 'unknown'}`
}
