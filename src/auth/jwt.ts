import { createPublicKey } from 'node:crypto'
import fastifyJwt from '@fastify/jwt'
import type { FastifyInstance } from 'fastify'
import type { JwtSettings } from '../config.js'
import { isGatewayError, type GatewayError } from '../errors.js'
import { unauthenticated } from './bearer.js'
import { jwksKeyResolver } from './jwks.js'

/*
 * jwt mode: callers present a token issued for this gateway, verified with @fastify/jwt (fast-jwt).
 * The algorithm is pinned to the kind of key configured, so a token can never pick its own
 * (no `none`, no HS256 signed with a public key); `exp` and `sub` are required (limits count per
 * subject: a token without one would fall back to the network address); a token may live at most
 * JWT_MAX_AGE_SEC; `iss`/`aud` are checked when configured, and start-up warns when neither is.
 */

export interface JwtClaims {
  readonly sub: string | null
  /** Expiry, in ms since the epoch. */
  readonly expiresAt: number
}

function algorithmsFor (settings: JwtSettings): string[] {
  if (settings.secret !== null) return ['HS256']
  if (settings.publicKey !== null) {
    const type = createPublicKey(settings.publicKey).asymmetricKeyType
    if (type === 'rsa') return ['RS256']
    if (type === 'ec') return ['ES256']
    throw new Error(`JWT_PUBLIC_KEY: expected an RSA or EC (P-256) public key, got a ${String(type)} key`)
  }
  return ['RS256', 'ES256']
}

export async function registerJwt (app: FastifyInstance, settings: JwtSettings): Promise<(token: string) => Promise<JwtClaims>> {
  const algorithms = algorithmsFor(settings)
  const key = settings.secret ?? settings.publicKey ?? (settings.jwksUrl === null
    ? null
    : jwksKeyResolver({ url: settings.jwksUrl, algorithms, issuer: settings.issuer ?? '' }))
  if (key === null) throw new Error('AUTH_MODE=jwt needs JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL')
  if (settings.issuer === null && settings.audience === null) {
    app.log.warn(
      'AUTH_MODE=jwt checks neither the issuer nor the audience of tokens: any token signed with this key is accepted, ' +
      'whoever it was issued for. Set JWT_ISSUER and/or JWT_AUDIENCE.'
    )
  }
  await app.register(fastifyJwt, {
    // A key function receives fast-jwt's decoded token ({ header, payload }).
    // Verify-only: the gateway never signs caller tokens.
    secret: (typeof key === 'function'
      ? async (decoded: { header: { alg?: unknown, kid?: unknown }, payload: { iss?: unknown } }) => await key(decoded.header, decoded.payload)
      : { public: key }) as never,
    verify: {
      algorithms: algorithms as never,
      requiredClaims: ['exp', 'sub'],
      // Verified tokens by their text (fast-jwt checks exp and nbf again on every use): a client sends one token with every request.
      cache: 10_000,
      // fast-jwt counts the tolerance in milliseconds; the setting is in seconds.
      clockTolerance: settings.clockToleranceSec * 1000,
      ...(settings.issuer === null ? {} : { allowedIss: settings.issuer }),
      ...(settings.audience === null ? {} : { allowedAud: settings.audience })
    }
  })
  return async (token) => {
    let payload: Record<string, unknown>
    try {
      payload = await app.jwt.verify<Record<string, unknown>>(token)
    } catch (err) {
      throw explain(err, settings)
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') {
      throw unauthenticated('no-sub', 'The bearer token has no subject (sub claim); this gateway needs one to tell callers apart.')
    }
    const lifetime = lifetimeSec(payload, Date.now() / 1000)
    if (lifetime > settings.maxAgeSec + settings.clockToleranceSec) {
      throw unauthenticated(
        'too-long-lived',
        `The bearer token lives too long: this gateway accepts at most ${settings.maxAgeSec} s from iat to exp. Issue shorter-lived tokens.`
      )
    }
    return { sub: payload.sub, expiresAt: Number(payload.exp) * 1000 }
  }
}

/**
 * How long a token is valid: from `iat` to `exp`; from now to `exp` when it has no `iat`, or an `iat`
 * in the future (which would otherwise hide an `exp` far ahead).
 */
function lifetimeSec (payload: Record<string, unknown>, nowSec: number): number {
  const exp = Number(payload.exp)
  const iat = typeof payload.iat === 'number' && payload.iat <= nowSec ? payload.iat : nowSec
  return exp - iat
}

/** fast-jwt's error codes, as sentences that say what is wrong and never show the token. */
function explain (err: unknown, settings: JwtSettings): GatewayError {
  const code = (err as { code?: unknown }).code
  const original = (err as { originalError?: unknown }).originalError
  if (isGatewayError(original)) return original
  const message = err instanceof Error ? err.message : ''
  switch (code) {
    case 'FAST_JWT_MALFORMED':
    case 'FAST_JWT_INVALID_TYPE':
    case 'FAST_JWT_INVALID_PAYLOAD':
      return unauthenticated('malformed', 'The bearer token is not a well-formed JWT.')
    case 'FAST_JWT_MISSING_SIGNATURE':
      return unauthenticated('unsigned', 'The bearer token is not signed; unsigned tokens (alg "none") are refused.')
    case 'FAST_JWT_INVALID_ALGORITHM':
      return unauthenticated(
        'algorithm',
        `The bearer token is signed with an algorithm this gateway does not accept; it accepts ${algorithmsFor(settings).join(' or ')}.`
      )
    case 'FAST_JWT_INVALID_SIGNATURE':
    case 'FAST_JWT_INVALID_KEY':
      return unauthenticated('signature', 'The bearer token\'s signature is not valid for this gateway\'s key.')
    case 'FAST_JWT_EXPIRED':
      return unauthenticated('expired', 'The bearer token has expired: get a fresh one.')
    case 'FAST_JWT_INACTIVE':
      return unauthenticated('not-yet-valid', 'The bearer token is not valid yet (its nbf claim is in the future).')
    case 'FAST_JWT_MISSING_REQUIRED_CLAIM':
      if (message.includes('sub')) {
        return unauthenticated('no-sub', 'The bearer token has no subject (sub claim); this gateway needs one to tell callers apart.')
      }
      return unauthenticated('no-exp', 'The bearer token has no expiry (exp claim); tokens must expire.')
    case 'FAST_JWT_INVALID_CLAIM_VALUE':
      if (message.includes('iss')) {
        return unauthenticated(
          'issuer',
          `The bearer token has the wrong issuer; this gateway accepts tokens from ${settings.issuer ?? 'its configured issuer'}.`
        )
      }
      if (message.includes('aud')) {
        return unauthenticated(
          'audience',
          `The bearer token has the wrong audience; this gateway accepts ${settings.audience ?? 'its configured audience'}.`
        )
      }
      return unauthenticated('claim', 'The bearer token has a claim with an invalid value.')
    case 'FAST_JWT_KEY_FETCHING_ERROR':
      return unauthenticated('unknown-kid', 'The key to verify the bearer token could not be found.')
    default:
      return unauthenticated('unverified', 'The bearer token could not be verified.')
  }
}
