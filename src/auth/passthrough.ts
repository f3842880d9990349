import { createHash } from 'node:crypto'
import { createDecoder } from 'fast-jwt'
import { LRUCache } from 'lru-cache'
import { unauthenticated } from './bearer.js'

/*
 * Passthrough mode: the caller's own Visual Layer JWT is forwarded unchanged. The gateway cannot
 * check its signature (only Visual Layer knows the secret), so it checks what it can without a
 * call: the token has Visual Layer's documented shape (HS256, `kid` = `sub`, `iss` "sdk") and is
 * within its validity period. Anything else is refused before it costs Visual Layer a request.
 */

const decode = createDecoder({ complete: true })

export interface VisualLayerClaims {
  readonly sub: string
  /** Expiry, in ms since the epoch. */
  readonly expiresAt: number
}

export function checkVisualLayerToken (token: string, nowMs: number, toleranceSec: number): VisualLayerClaims {
  return readToken(token, nowMs, toleranceSec).claims
}

function readToken (token: string, nowMs: number, toleranceSec: number): { claims: VisualLayerClaims, notBefore: number | null } {
  let header: Record<string, unknown>
  let payload: Record<string, unknown>
  try {
    const decoded = decode(token) as { header: unknown, payload: unknown }
    const notObject = (value: unknown): boolean => typeof value !== 'object' || value === null
    if (notObject(decoded.header) || notObject(decoded.payload)) throw new Error('not an object')
    header = decoded.header as Record<string, unknown>
    payload = decoded.payload as Record<string, unknown>
  } catch {
    throw unauthenticated('malformed', 'The bearer token is not a well-formed JWT.')
  }
  if (header.alg !== 'HS256') {
    throw unauthenticated(
      'algorithm',
      `The bearer token must be signed with HS256 as Visual Layer documents; it says alg ${JSON.stringify(String(header.alg)).slice(0, 20)}.`
    )
  }
  if (typeof header.kid !== 'string' || header.kid === '' || payload.sub !== header.kid) {
    throw unauthenticated('not-visual-layer', 'The bearer token is not a Visual Layer token: its kid header and sub claim must both be your API key.')
  }
  if (payload.iss !== 'sdk') throw unauthenticated('issuer', 'The bearer token has the wrong issuer: Visual Layer tokens have iss "sdk".')
  if (typeof payload.exp !== 'number') throw unauthenticated('no-exp', 'The bearer token has no expiry (exp claim); Visual Layer tokens must expire.')
  const claims = { sub: header.kid, expiresAt: payload.exp * 1000 }
  const notBefore = typeof payload.nbf === 'number' ? payload.nbf * 1000 : null
  checkTime(claims, notBefore, nowMs, toleranceSec)
  return { claims, notBefore }
}

function checkTime (claims: VisualLayerClaims, notBefore: number | null, nowMs: number, toleranceSec: number): void {
  const tolerance = toleranceSec * 1000
  if (claims.expiresAt + tolerance <= nowMs) throw unauthenticated('expired', 'The bearer token has expired: sign a fresh Visual Layer JWT.')
  if (notBefore !== null && notBefore - tolerance > nowMs) {
    throw unauthenticated(
      'not-yet-valid',
      'The bearer token is not valid yet (its nbf claim is in the future).'
    )
  }
}

/** A token that has Visual Layer's shape, as read once: its claims and its SHA-256 fingerprint. */
export interface CheckedToken {
  readonly claims: VisualLayerClaims
  readonly fingerprint: string
}

/**
 * Tokens already read, by their text: a client sends the same token with every request, and decoding
 * it and hashing it each time would take a twentieth of the CPU of a small query. Only well-shaped tokens are
 * kept (at most `max`, and not past their expiry); the time checks run on every use.
 */
export class PassthroughTokens {
  private readonly read: LRUCache<string, CheckedToken & { notBefore: number | null }>

  constructor (private readonly toleranceSec: number, max = 10_000) {
    this.read = new LRUCache({ max })
  }

  check (token: string, nowMs: number): CheckedToken {
    const known = this.read.get(token)
    if (known !== undefined) {
      checkTime(known.claims, known.notBefore, nowMs, this.toleranceSec)
      return known
    }
    const { claims, notBefore } = readToken(token, nowMs, this.toleranceSec)
    const checked = { claims, notBefore, fingerprint: createHash('sha256').update(token).digest('base64url') }
    this.read.set(token, checked, { ttl: Math.max(1, claims.expiresAt + this.toleranceSec * 1000 - nowMs) })
    return checked
  }
}
