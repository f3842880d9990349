import type { Credential } from '../upstream/client.js'

/**
 * Credential scopes: the key of everything the gateway shares between requests (coalesced calls,
 * cached answers, pollers, idempotency records), so that no caller receives what only another may see.
 *
 * The rule:
 * - none and jwt modes: every upstream call uses the service account, so there is one scope, "service".
 * - passthrough: the gateway cannot check a Visual Layer signature (only Visual Layer knows the
 *   secret). A token is therefore scoped to itself (its SHA-256 fingerprint) until Visual Layer has
 *   accepted that exact token. From then on it is scoped to its subject (the API key): every accepted
 *   token of one subject was signed with that key's secret, so they are the same verified principal.
 *   A forged token that copies a real `sub` is never accepted, so it keeps a scope of its own and is
 *   never answered from what a genuine token fetched. A token Visual Layer refuses (401) loses its proof
 *   and is remembered as refused until it expires: no further call is made with it.
 */
const SERVICE_SCOPE = 'service'

/** What Visual Layer said of a caller's token so far; the service account and no credential count as proven. */
export type TokenStanding = 'proven' | 'unproven' | 'refused'

export class CredentialScopes {
  /** Fingerprints of tokens Visual Layer accepted, with their expiry (ms). Oldest first. */
  private readonly proven = new Map<string, number>()
  /** Fingerprints of tokens Visual Layer refused, with their expiry (ms). Oldest first. */
  private readonly refusals = new Map<string, number>()
  /**
   * Subjects (API keys) of which Visual Layer accepted a token here, least recently accepted first: a
   * new token claiming one is charged to that key's allowance of unproven tokens, not its address'.
   * Kept past their tokens' expiry (Visual Layer tokens are short-lived; the account is not).
   */
  private readonly subjects = new Set<string>()

  /** Told when a token is first accepted (the WebSocket door then counts its sockets against the account). */
  private readonly acceptedListeners = new Set<(fingerprint: string) => void>()

  constructor (private readonly maxProven = 10_000, private readonly now: () => number = Date.now) {}

  /** Calls `listener` with the fingerprint of each token Visual Layer accepts from now on; returns the unsubscribe. */
  onAccepted (listener: (fingerprint: string) => void): () => void {
    this.acceptedListeners.add(listener)
    return () => { this.acceptedListeners.delete(listener) }
  }

  standingOf (credential: Credential): TokenStanding {
    if (credential.kind !== 'bearer') return 'proven'
    const now = this.now()
    const refusedUntil = this.refusals.get(credential.fingerprint)
    if (refusedUntil !== undefined && refusedUntil > now) return 'refused'
    const provenUntil = this.proven.get(credential.fingerprint)
    return provenUntil !== undefined && provenUntil > now ? 'proven' : 'unproven'
  }

  scopeOf (credential: Credential): string {
    if (credential.kind === 'service') return SERVICE_SCOPE
    if (credential.kind === 'anonymous') return 'anonymous'
    const expiresAt = this.proven.get(credential.fingerprint)
    if (expiresAt !== undefined && expiresAt > this.now()) return `sub:${credential.subject}`
    return `token:${credential.fingerprint}`
  }

  /** Visual Layer answered this token after checking it (not 401, 429 or 5xx): it holds its subject's secret. */
  accepted (credential: Credential): void {
    if (credential.kind !== 'bearer' || this.proven.has(credential.fingerprint)) return
    // A refusal stands until the token expires: a late answer to a call sent before it proves nothing now.
    if (this.standingOf(credential) === 'refused') return
    this.proven.set(credential.fingerprint, credential.expiresAt)
    if (this.proven.size > this.maxProven) this.evict()
    this.subjects.delete(credential.subject)
    this.subjects.add(credential.subject)
    if (this.subjects.size > this.maxProven) this.subjects.delete(this.subjects.values().next().value as string)
    for (const listener of this.acceptedListeners) listener(credential.fingerprint)
  }

  /** Whether Visual Layer accepted a token of this subject here (one of the last `maxProven` subjects it accepted). */
  hasAcceptedSubject (subject: string): boolean {
    return this.subjects.has(subject)
  }

  /** Visual Layer answered this token with 401: it is never sent again until it expires. */
  refused (credential: Credential): void {
    if (credential.kind !== 'bearer') return
    this.proven.delete(credential.fingerprint)
    if (this.refusals.has(credential.fingerprint)) return
    this.refusals.set(credential.fingerprint, credential.expiresAt)
    if (this.refusals.size > this.maxProven) this.evict(this.refusals)
  }

  private evict (memory: Map<string, number> = this.proven): void {
    const now = this.now()
    for (const [fingerprint, expiresAt] of memory) {
      if (expiresAt <= now) memory.delete(fingerprint)
    }
    // Still full of live tokens: forget the oldest. A forgotten proof only costs a scope of its own;
    // a forgotten refusal, one more call that Visual Layer refuses again.
    for (const fingerprint of memory.keys()) {
      if (memory.size <= this.maxProven) break
      memory.delete(fingerprint)
    }
  }
}
