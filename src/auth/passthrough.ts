import { createDecoder } from 'fast-jwt'
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
  const tolerance = toleranceSec * 1000
  if (payload.exp * 1000 + tolerance <= nowMs) throw unauthenticated('expired', 'The bearer token has expired: sign a fresh Visual Layer JWT.')
  if (typeof payload.nbf === 'number' && payload.nbf * 1000 - tolerance > nowMs) {
    throw unauthenticated(
      'not-yet-valid',
      'The bearer token is not valid yet (its nbf claim is in the future).'
    )
  }
  return { sub: header.kid, expiresAt: payload.exp * 1000 }
}
