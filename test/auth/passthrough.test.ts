import { createSigner } from 'fast-jwt'
import { describe, expect, it } from 'vitest'
import { checkVisualLayerToken, PassthroughTokens } from '../../src/auth/passthrough.js'

const NOW = Date.parse('2026-03-02T12:00:00Z')
const sec = (ms: number): number => Math.floor(ms / 1000)
const sign = (claims: Record<string, unknown>, header: { kid?: string, alg?: string } = {}): string =>
  createSigner({ key: 'secret', algorithm: 'HS256', kid: header.kid ?? 'key-1', noTimestamp: true })({ sub: 'key-1', iss: 'sdk', exp: sec(NOW) + 600, ...claims })

function refusal (token: string, tolerance = 0): string {
  try {
    checkVisualLayerToken(token, NOW, tolerance)
  } catch (err) {
    return (err as Error).message
  }
  return 'accepted'
}

describe('passthrough token check (no upstream call)', () => {
  it('accepts a token shaped as Visual Layer documents and reports its subject and expiry', () => {
    expect(checkVisualLayerToken(sign({ iat: sec(NOW) }), NOW, 0)).toEqual({ sub: 'key-1', expiresAt: (sec(NOW) + 600) * 1000 })
  })

  it('refuses each malformed or unusable token with a message that says why', () => {
    const none = `${Buffer.from('{"alg":"none","kid":"key-1"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'key-1', iss: 'sdk', exp: sec(NOW) + 60 })).toString('base64url')}.`
    expect({
      notJwt: refusal('not-a-jwt'),
      algNone: refusal(none),
      wrongIssuer: refusal(sign({ iss: 'someone' })),
      subNotKid: refusal(sign({ sub: 'other' })),
      noExp: refusal(sign({ exp: undefined })),
      expired: refusal(sign({ exp: sec(NOW) - 1 })),
      notYet: refusal(sign({ nbf: sec(NOW) + 60 }))
    }).toEqual({
      notJwt: 'The bearer token is not a well-formed JWT.',
      algNone: 'The bearer token must be signed with HS256 as Visual Layer documents; it says alg "none".',
      wrongIssuer: 'The bearer token has the wrong issuer: Visual Layer tokens have iss "sdk".',
      subNotKid: 'The bearer token is not a Visual Layer token: its kid header and sub claim must both be your API key.',
      noExp: 'The bearer token has no expiry (exp claim); Visual Layer tokens must expire.',
      expired: 'The bearer token has expired: sign a fresh Visual Layer JWT.',
      notYet: 'The bearer token is not valid yet (its nbf claim is in the future).'
    })
  })

  it('applies the clock tolerance to exp on both sides of it', () => {
    const justExpired = sign({ exp: sec(NOW) - 4 })
    expect(refusal(justExpired, 5)).toBe('accepted')
    expect(refusal(justExpired, 3)).toBe('The bearer token has expired: sign a fresh Visual Layer JWT.')
  })
})

describe('tokens read once (PassthroughTokens)', () => {
  it('gives the same reading for a token sent again, and still checks its times on every use', () => {
    const tokens = new PassthroughTokens(0)
    const token = sign({ nbf: sec(NOW) - 10 })
    const first = tokens.check(token, NOW)
    expect(first.claims).toEqual({ sub: 'key-1', expiresAt: (sec(NOW) + 600) * 1000 })
    expect(first.fingerprint).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(tokens.check(token, NOW + 1_000)).toBe(first)
    expect(() => tokens.check(token, NOW + 600_000)).toThrow('The bearer token has expired: sign a fresh Visual Layer JWT.')
    expect(() => tokens.check(token, NOW - 20_000)).toThrow('The bearer token is not valid yet (its nbf claim is in the future).')
  })

  it('keeps no reading of a token it refused', () => {
    const tokens = new PassthroughTokens(0)
    expect(() => tokens.check(sign({ iss: 'someone' }), NOW)).toThrow('The bearer token has the wrong issuer: Visual Layer tokens have iss "sdk".')
    expect(() => tokens.check(sign({ iss: 'someone' }), NOW)).toThrow('The bearer token has the wrong issuer: Visual Layer tokens have iss "sdk".')
  })
})
