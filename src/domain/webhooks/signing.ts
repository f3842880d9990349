import { randomBytes } from 'node:crypto'
import { Webhook as Signer } from 'standardwebhooks'
import type { WebhookSecret } from './model.js'

/*
 * Standard Webhooks signatures (standardwebhooks, the specification's own library): `webhook-id`,
 * `webhook-timestamp` (seconds) and `webhook-signature`, one `v1,<base64 HMAC-SHA256>` per secret
 * still valid, space-separated, so that during a rotation's grace period a receiver holding either
 * secret verifies the delivery.
 */

export function newSecret (): string {
  return `whsec_${randomBytes(24).toString('base64')}`
}

/** The secrets that sign at `now`: the current one, and rotated-out ones still within their grace period. */
export function signingSecrets (secrets: readonly WebhookSecret[], now: number): WebhookSecret[] {
  return secrets.filter((secret) => secret.expiresAt === null || secret.expiresAt > now)
}

export function signedHeaders (id: string, payload: string, secrets: readonly WebhookSecret[], now: number, sentAt: Date): Record<string, string> {
  const signatures = signingSecrets(secrets, now).map(({ secret }) => new Signer(secret).sign(id, sentAt, payload))
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
    'webhook-signature': signatures.join(' ')
  }
}
