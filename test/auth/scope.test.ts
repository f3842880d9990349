import { describe, expect, it } from 'vitest'
import { CredentialScopes } from '../../src/auth/scope.js'
import type { Credential } from '../../src/upstream/client.js'

const HOUR = 3_600_000
const bearer = (fingerprint: string, subject: string, expiresAt = Date.now() + HOUR): Credential =>
  ({ kind: 'bearer', token: `token-${fingerprint}`, subject, fingerprint, expiresAt })

describe('credential scopes', () => {
  it('puts every service-account call in one scope', () => {
    expect(new CredentialScopes().scopeOf({ kind: 'service' })).toBe('service')
  })

  it('scopes an unproven token to itself, even when it claims a real subject', () => {
    const scopes = new CredentialScopes()
    const genuine = bearer('aaa', 'vl-demo-acme-key')
    const forged = bearer('fff', 'vl-demo-acme-key')
    scopes.accepted(genuine)
    expect(scopes.scopeOf(genuine)).toBe('sub:vl-demo-acme-key')
    expect(scopes.scopeOf(forged)).toBe('token:fff')
  })

  it('shares a scope between two tokens of one subject only once Visual Layer accepted each', () => {
    const scopes = new CredentialScopes()
    const first = bearer('t1', 'k')
    const second = bearer('t2', 'k')
    scopes.accepted(first)
    expect([scopes.scopeOf(first), scopes.scopeOf(second)]).toEqual(['sub:k', 'token:t2'])
    scopes.accepted(second)
    expect([scopes.scopeOf(first), scopes.scopeOf(second)]).toEqual(['sub:k', 'sub:k'])
  })

  it('keeps two accounts apart', () => {
    const scopes = new CredentialScopes()
    const acme = bearer('a', 'vl-demo-acme-key')
    const globex = bearer('g', 'vl-demo-globex-key')
    scopes.accepted(acme)
    scopes.accepted(globex)
    expect([scopes.scopeOf(acme), scopes.scopeOf(globex)]).toEqual(['sub:vl-demo-acme-key', 'sub:vl-demo-globex-key'])
  })

  it('withdraws the proof of a token Visual Layer later refused, and of an expired one', () => {
    let now = 1_000
    const scopes = new CredentialScopes(10, () => now)
    const token = bearer('t', 'k', 5_000)
    scopes.accepted(token)
    expect(scopes.scopeOf(token)).toBe('sub:k')
    scopes.refused(token)
    expect(scopes.scopeOf(token)).toBe('token:t')
    scopes.accepted(token)
    now = 5_000
    expect(scopes.scopeOf(token)).toBe('token:t')
  })

  it('holds a bounded number of proofs', () => {
    const scopes = new CredentialScopes(3)
    const tokens = ['1', '2', '3', '4', '5'].map((f) => bearer(f, 'k'))
    for (const token of tokens) scopes.accepted(token)
    expect(tokens.map((t) => scopes.scopeOf(t))).toEqual(['token:1', 'token:2', 'sub:k', 'sub:k', 'sub:k'])
  })

  it('remembers the API keys it accepted a token of past the tokens\' expiry, never a refused one\'s, the last `maxProven` of them', () => {
    let now = 1_000
    const scopes = new CredentialScopes(2, () => now)
    scopes.refused(bearer('f', 'forged-key', 10_000))
    scopes.accepted(bearer('a', 'a-key', 2_000))
    now = 5_000
    expect(['a-key', 'forged-key'].map((key) => scopes.hasAcceptedSubject(key))).toEqual([true, false])
    scopes.accepted(bearer('b', 'b-key', 10_000))
    scopes.accepted(bearer('a2', 'a-key', 10_000))
    scopes.accepted(bearer('c', 'c-key', 10_000))
    // The least recently accepted key goes first: b-key, since a-key had a token accepted again.
    expect(['a-key', 'b-key', 'c-key'].map((key) => scopes.hasAcceptedSubject(key))).toEqual([true, false, true])
  })

  it('remembers a refused token as refused until it expires, and a late acceptance does not undo it', () => {
    let now = 1_000
    const scopes = new CredentialScopes(10, () => now)
    const token = bearer('r', 'k', 5_000)
    expect(scopes.standingOf(token)).toBe('unproven')
    scopes.refused(token)
    scopes.accepted(token)
    expect([scopes.standingOf(token), scopes.scopeOf(token)]).toEqual(['refused', 'token:r'])
    now = 5_000
    expect(scopes.standingOf(token)).toBe('unproven')
  })

  it('holds a bounded number of refusals, forgetting expired ones first, then the oldest', () => {
    let now = 1_000
    const scopes = new CredentialScopes(3, () => now)
    const soon = bearer('soon', 'k', 2_000)
    const tokens = ['1', '2', '3'].map((f) => bearer(f, 'k', 10_000))
    scopes.refused(soon)
    for (const token of tokens.slice(0, 2)) scopes.refused(token)
    now = 2_000
    scopes.refused(tokens[2] as Credential)
    expect(tokens.map((t) => scopes.standingOf(t))).toEqual(['refused', 'refused', 'refused'])
    scopes.refused(bearer('4', 'k', 10_000))
    expect(tokens.map((t) => scopes.standingOf(t))).toEqual(['unproven', 'refused', 'refused'])
  })

  it('counts the service account and no credential as proven: they never wait for a verdict', () => {
    const scopes = new CredentialScopes()
    expect([scopes.standingOf({ kind: 'service' }), scopes.standingOf({ kind: 'anonymous' })]).toEqual(['proven', 'proven'])
  })
})
