/*
 * Webhooks for partner services: what a registration is, what an event and a delivery are. The
 * stores (store.ts, and on Redis src/cluster/webhooks.ts) keep these shapes as they are, as JSON.
 */

export const EVENT_TYPES = [
  'dataset.status_changed', 'dataset.ready', 'dataset.error', 'enrichment.completed', 'task.updated', 'task.failed', 'task.completed'
] as const
export type EventType = (typeof EVENT_TYPES)[number]
/** Types the gateway sends or records beyond the ones a webhook subscribes to. */
export type AnyEventType = EventType | 'webhook.ping' | 'webhook.disabled'

export interface WebhookSecret {
  /** `whsec_` and the base64 of 24 random bytes, as Standard Webhooks' libraries take it. */
  readonly secret: string
  /** Until when (ms, WebhookTime) a rotated-out secret still signs; null for the current one. */
  readonly expiresAt: number | null
}

export interface Webhook {
  readonly id: string
  /** Who registered it: the caller's owner key (webhooks/service.ts, ownerOf); nobody else sees it. */
  readonly owner: string
  url: string
  events: EventType[]
  /**
   * The datasets it follows (and the enriched copies made from them through the gateway); empty: every
   * dataset of the account, followed through the account's dataset and task lists (account-watcher.ts).
   */
  datasetIds: string[]
  /** Enriched copies of those datasets made through the gateway since (the newest), followed as they are. */
  copyIds: string[]
  description: string | null
  enabled: boolean
  /** Why it was disabled (410 Gone, or failing for WEBHOOKS_DISABLE_AFTER_MS); null while enabled. */
  disabledReason: string | null
  secrets: WebhookSecret[]
  /** Since when (ms, WebhookTime) every attempt failed; null after a success. */
  failingSince: number | null
  readonly createdAt: string
}

export interface WebhookEvent {
  /** The `webhook-id` of every delivery of it: the same on each attempt, so receivers deduplicate. */
  readonly id: string
  readonly type: AnyEventType
  readonly timestamp: string
  readonly data: unknown
}

export interface Attempt {
  readonly at: string
  /** The receiver's status, or null when there was no answer (refused target, network error, deadline). */
  readonly statusCode: number | null
  readonly error: string | null
  readonly durationMs: number
  /** The answer's first bytes (WEBHOOKS_RESPONSE_BYTES at most), for the partner's own debugging. */
  readonly responseBody: string | null
}

export type DeliveryState = 'pending' | 'delivered' | 'failed' | 'recorded'

export interface Delivery {
  readonly id: string
  readonly webhookId: string
  readonly eventId: string
  readonly eventType: AnyEventType
  /** The resource the event is about (`dataset <id>`, `task <id>`): its events reach one webhook in order. */
  readonly resource: string
  /** The exact bytes signed and sent (the event as JSON). */
  readonly payload: string
  /** When it was made (ms, WebhookTime): the queue's order, and the oldest pending age. */
  readonly createdAt: number
  attempts: Attempt[]
  state: DeliveryState
  /** When the next attempt is due (ms, WebhookTime); null once it is no longer pending. */
  nextAttemptAt: number | null
}

/** Time as webhooks see it: a clock in ms (Date.now in production, so that it means the same on every replica) and timers. */
export interface WebhookTime {
  now: () => number
  after: (ms: number, run: () => void) => () => void
}

export const wallTime: WebhookTime = {
  now: () => Date.now(),
  after: (ms, run) => {
    const timer = setTimeout(run, ms)
    timer.unref()
    return () => { clearTimeout(timer) }
  }
}

/** The logger webhooks write to (Fastify's fits). */
export interface WebhookLog {
  info: (details: object, message: string) => void
  warn: (details: object, message: string) => void
  error: (details: object, message: string) => void
}
