import type { FastifyInstance } from 'fastify'
import type { Config } from '../config.js'
import type { Credential } from '../upstream/client.js'
import { bearerToken, unauthenticated } from './bearer.js'
import { registerJwt } from './jwt.js'
import { PassthroughTokens } from './passthrough.js'
import { CredentialScopes } from './scope.js'

/**
 * Authentication for every door: an Authorization value (HTTP header or WebSocket connection_init)
 * becomes a Caller, per AUTH_MODE. The doors' own hooks are in src/transports.
 */

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

const SERVICE: Caller = Object.freeze({ credential: Object.freeze({ kind: 'service' }), expiresAt: null, subject: null })

export async function createAuth (app: FastifyInstance, config: Config): Promise<Auth> {
  const scopes = new CredentialScopes()
  const mode = config.authMode
  if (mode === 'none') return { mode, scopes, authenticate: async () => SERVICE }

  if (mode === 'passthrough') {
    const tokens = new PassthroughTokens(config.jwt.clockToleranceSec)
    return {
      mode,
      scopes,
      authenticate: async (authorization) => {
        const token = bearerToken(authorization)
        const { claims, fingerprint } = tokens.check(token, Date.now())
        const credential: Credential = { kind: 'bearer', token, subject: claims.sub, fingerprint, expiresAt: claims.expiresAt }
        // Refused by Visual Layer before: refused here, at no cost to it, as any token the gateway refuses.
        if (scopes.standingOf(credential) === 'refused') {
          throw unauthenticated('refused-upstream', 'Visual Layer refused this token: sign a fresh Visual Layer JWT and try again.')
        }
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

/**
 * Who a caller is, for per-caller limits: the verified subject in jwt mode, the API key of a token
 * Visual Layer has accepted in passthrough (never an unverified claim: a forged sub must not use up
 * someone's quota), and otherwise the network address.
 *
 * A passthrough token Visual Layer has not accepted yet could be made up at will. It counts in a lane
 * of its own (`unproven:`), never against the limits of proven callers or of requests without a token:
 * its address' lane, or, once Visual Layer accepted a token of the API key it claims, that key's
 * lane. So forged tokens of made-up keys use up only their address' lane, and cannot lock out the
 * next token of an account Visual Layer has vouched for (only forgeries that name that key count there).
 */
export function callerKey (auth: Auth, caller: Caller, remoteAddress: string | undefined): string {
  if (caller.subject !== null) return `jwt:${caller.subject}`
  const address = `address:${remoteAddress ?? 'unknown'}`
  if (caller.credential.kind !== 'bearer') return address
  const scope = auth.scopes.scopeOf(caller.credential)
  if (scope.startsWith('sub:')) return scope
  return auth.scopes.hasAcceptedSubject(caller.credential.subject) ? `unproven:sub:${caller.credential.subject}` : `unproven:${address}`
}

/** Whether a key of callerKey is an unproven token's lane. */
export function isUnprovenKey (key: string): boolean {
  return key.startsWith('unproven:')
}
