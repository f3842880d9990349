import { createDecoder } from 'fast-jwt'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AuthMode } from './config.js'
import { GatewayError } from './errors.js'
import type { Credential } from './upstream/client.js'

/**
 * Who is calling, and with which Visual Layer credential the gateway speaks for them.
 * - none: nobody is authenticated; every call uses the service account (local use only).
 * - passthrough: the caller's Visual Layer JWT is checked for form and expiry, then forwarded.
 */

declare module 'fastify' {
  interface FastifyRequest {
    credential: Credential | null
  }
}

const SERVICE: Credential = Object.freeze({ kind: 'service' })
const decode = createDecoder({ complete: true })

export function bearerToken (header: string | undefined): string {
  if (header === undefined || header.trim() === '') {
    throw new GatewayError('UNAUTHENTICATED', 'Missing Authorization header: send "Authorization: Bearer <Visual Layer JWT>".')
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  if (match === null) throw new GatewayError('UNAUTHENTICATED', 'The Authorization header must be "Bearer <token>".')
  return match[1] as string
}

/** A Visual Layer JWT the gateway may forward: well-formed and unexpired (the signature is Visual Layer's to check). */
export function checkForwardableToken (token: string, nowMs: number): void {
  let claims: unknown
  try {
    claims = (decode(token) as { payload: unknown }).payload
  } catch {
    throw new GatewayError('UNAUTHENTICATED', 'The bearer token is not a well-formed JWT.')
  }
  const exp = (claims as { exp?: unknown } | null)?.exp
  if (typeof exp !== 'number') throw new GatewayError('UNAUTHENTICATED', 'The bearer token has no expiry (exp claim); Visual Layer tokens must expire.')
  if (exp * 1000 <= nowMs) throw new GatewayError('UNAUTHENTICATED', 'The bearer token has expired: sign a fresh Visual Layer JWT.')
}

export function registerAuth (app: FastifyInstance, mode: AuthMode): void {
  app.decorateRequest('credential', null)
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.routeOptions.url !== '/graphql') return
    if (mode === 'none') {
      request.credential = SERVICE
      return
    }
    try {
      const token = bearerToken(request.headers.authorization)
      checkForwardableToken(token, Date.now())
      request.credential = { kind: 'bearer', token }
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err
      return reply.code(401).header('www-authenticate', 'Bearer').send({
        data: null,
        errors: [{ message: err.message, extensions: { code: err.code, requestId: String(request.id) } }]
      })
    }
  })
}

export function credentialOf (request: FastifyRequest): Credential {
  if (request.credential === null) throw new GatewayError('UNAUTHENTICATED', 'The request was not authenticated.')
  return request.credential
}
