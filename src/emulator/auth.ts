import { createDecoder, createVerifier, TokenError } from 'fast-jwt'
import type { DemoAccount } from './accounts.js'
import { unauthorized } from './api-error.js'
import type { ApiError } from './api-error.js'

/**
 * Visual Layer's client-signed JWTs: HS256, `kid` = API key, `sub` = the same key, `iss` = "sdk",
 * `exp` required. Expiry is judged by the emulator clock, so tests can expire a token by moving time.
 * Error details say what is wrong and never echo the token.
 */

/** Tolerated clock skew for `exp`/`nbf`, in ms: a few seconds, as a real server would allow. */
const CLOCK_TOLERANCE_MS = 5_000

const decodeComplete = createDecoder({ complete: true })
const MALFORMED = 'Invalid token: not a well-formed JWT'

interface DecodedToken {
  readonly header: Record<string, unknown>
  readonly payload: Record<string, unknown>
}

function decode (token: string): DecodedToken | null {
  try {
    const decoded = decodeComplete(token) as { header: unknown; payload: unknown }
    if (typeof decoded.header !== 'object' || decoded.header === null) return null
    if (typeof decoded.payload !== 'object' || decoded.payload === null) return null
    return decoded as DecodedToken
  } catch {
    return null
  }
}

/** The credentials of an `Authorization` header: null when absent or blank. */
function splitAuthorization (authorization: string | undefined): { scheme: string; token: string } | null {
  const value = authorization?.trim() ?? ''
  if (value === '') return null
  const space = value.search(/\s/)
  return space === -1 ? { scheme: value, token: '' } : { scheme: value.slice(0, space), token: value.slice(space).trim() }
}

/** The API key a request claims (for the call log): the token's `kid`, else its `sub`, else null. Unverified. */
export function claimedApiKey (authorization: string | undefined): string | null {
  const credentials = splitAuthorization(authorization)
  if (credentials === null || credentials.token === '') return null
  const decoded = decode(credentials.token)
  if (decoded === null) return null
  const { kid } = decoded.header
  const { sub } = decoded.payload
  return typeof kid === 'string' ? kid : typeof sub === 'string' ? sub : null
}

export type Authenticator = (authorization: string | undefined) => DemoAccount

export function createAuthenticator (accounts: readonly DemoAccount[], now: () => number): Authenticator {
  const byKey = new Map(accounts.map((account) => [account.apiKey, account]))

  return (authorization) => {
    const credentials = splitAuthorization(authorization)
    if (credentials === null) throw unauthorized('Not authenticated')
    if (credentials.scheme.toLowerCase() !== 'bearer') {
      throw unauthorized('Invalid authentication credentials: use the Bearer scheme (Authorization: Bearer <jwt>)')
    }
    const { token } = credentials
    if (token === '') throw unauthorized('Not authenticated')
    const decoded = decode(token)
    if (decoded === null) throw unauthorized(MALFORMED)
    const { alg, kid } = decoded.header
    if (alg !== 'HS256') throw unauthorized(`Invalid token: the algorithm must be HS256 (got ${typeof alg === 'string' ? JSON.stringify(alg) : 'none'})`)
    if (typeof kid !== 'string' || kid === '') throw unauthorized('Invalid token: the kid header must hold your API key')
    const account = byKey.get(kid)
    if (account === undefined) throw unauthorized('Invalid token: unknown API key in kid')

    const verify = createVerifier({
      key: account.apiSecret,
      algorithms: ['HS256'],
      requiredClaims: ['exp'],
      // fast-jwt reads a 0 timestamp as "use the wall clock"; the emulator's clock is never 0 in practice.
      clockTimestamp: Math.max(1, now()),
      clockTolerance: CLOCK_TOLERANCE_MS,
      cache: false
    })
    try {
      verify(token)
    } catch (error) {
      throw tokenProblem(error)
    }
    const { iss, sub } = decoded.payload
    if (iss !== 'sdk') throw unauthorized('Invalid token: the iss claim must be "sdk"')
    if (sub !== kid) throw unauthorized('Invalid token: the sub claim must equal the API key in kid')
    return account
  }
}

function tokenProblem (error: unknown): ApiError {
  if (!(error instanceof TokenError)) return unauthorized('Invalid token')
  switch (error.code) {
    case TokenError.codes.invalidSignature:
    case TokenError.codes.missingSignature:
      return unauthorized('Invalid token: signature verification failed; sign it with your API secret')
    case TokenError.codes.expired:
      return unauthorized('Token has expired; sign a new one')
    case TokenError.codes.inactive:
      return unauthorized('Invalid token: not valid yet (nbf is in the future)')
    case TokenError.codes.missingRequiredClaim:
      return unauthorized('Invalid token: the exp claim is required')
    case TokenError.codes.invalidClaimType:
    case TokenError.codes.invalidClaimValue:
      return unauthorized('Invalid token: exp, nbf and iat must be numbers (seconds since the epoch)')
    case TokenError.codes.invalidAlgorithm:
      return unauthorized('Invalid token: the algorithm must be HS256')
    default:
      return unauthorized(MALFORMED)
  }
}
