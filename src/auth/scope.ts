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
 *   never answered from what a genuine token fetched. A token Visual Layer refuses (401) loses its proof.
 */
export const SERVICE_SCOPE = 'service'

export class CredentialScopes {
  /** Fingerprints of tokens Visual Layer accepted, with their expiry (ms). Oldest first. */
  private readonly proven = new Map<string, number>()

  constructor (private readonly maxProven = 10_000, private readonly now: () => number = Date.now) {}

  scopeOf (credential: Credential): string {
    if (credential.kind === 'service') return SERVICE_SCOPE
    if (credential.kind === 'anonymous') return 'anonymous'
    const expiresAt = this.proven.get(credential.fingerprint)
    if (expiresAt !== undefined && expiresAt > this.now()) return `sub:${credential.subject}`
    return `token:${credential.fingerprint}`
  }

  /** Visual Layer answered this token with anything but 401: it holds its subject's secret. */
  accepted (credential: Credential): void {
    if (credential.kind !== 'bearer' || this.proven.has(credential.fingerprint)) return
    this.proven.set(credential.fingerprint, credential.expiresAt)
    if (this.proven.size > this.maxProven) this.evict()
  }

  refused (credential: Credential): void {
    if (credential.kind === 'bearer') this.proven.delete(credential.fingerprint)
  }

  private evict (): void {
    const now = this.now()
    for (const [fingerprint, expiresAt] of this.proven) {
      if (expiresAt <= now) this.proven.delete(fingerprint)
    }
    // Still full of live tokens: forget the oldest proofs (they only cost a scope of their own).
    for (const fingerprint of this.proven.keys()) {
      if (this.proven.size <= this.maxProven) break
      this.proven.delete(fingerprint)
    }
  }
}
