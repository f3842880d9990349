import { channel } from 'node:diagnostics_channel'
import type { Attempt, Delivery, Webhook, WebhookLog, WebhookTime } from './model.js'
import type { Send } from './sender.js'
import { signedHeaders } from './signing.js'
import type { DueDelivery, WebhookStore } from './store.js'

/*
 * Sends what is due: each delivery claimed from the store (the head of its (webhook, resource) queue,
 * by one replica for a lease), signed, posted with a deadline, and its outcome saved. A 2xx delivers;
 * 410 Gone disables the webhook; anything else is tried again after the next delay of the schedule,
 * with jitter, until the schedule ends (then the delivery failed). A webhook that has failed every
 * attempt for `disableAfterMs` is disabled. Each target (the URL's origin) has at most
 * `maxInFlightPerTarget` attempts at once: a slow receiver holds only its own deliveries.
 */

export interface DispatcherOptions {
  store: WebhookStore
  time: WebhookTime
  send: Send
  /** The delays (ms) before the 2nd, 3rd, ... attempt; after the last, the delivery has failed. */
  schedule: readonly number[]
  attemptTimeoutMs: number
  disableAfterMs: number
  maxInFlightPerTarget: number
  /** How often the queue is looked at when nothing is due sooner (other replicas queue too). */
  tickMs: number
  log: WebhookLog
  /** Whether any webhook exists (as last read): without one the store is left alone (no Redis traffic from an unused feature). */
  active?: () => boolean
  /** Names this dispatcher in its diagnostics messages (the service). */
  owner?: object
  /** Jitter: a delay d becomes d × (0.8 + 0.4 × random()). */
  random?: () => number
  onAttempt?: (outcome: AttemptOutcome, attempt: number, delivery: Delivery) => void
  /** A webhook was disabled (410, or failing too long): the service records webhook.disabled. */
  onDisabled?: (webhook: Webhook, reason: string) => Promise<void>
}

export type AttemptOutcome = 'delivered' | 'retry' | 'failed' | 'gone'

/** Published each time the dispatcher sets its timer: it looked at the queue, and sleeps `nextInMs` (tests move time by it). */
export interface IdleMessage {
  readonly owner: object
  readonly running: number
  readonly nextInMs: number
}

export const idles = channel('visual-layer:webhooks:idle')

const BATCH = 100

export class Dispatcher {
  private readonly inFlight = new Map<string, number>()
  private readonly attempts = new Set<Promise<void>>()
  private pumping: Promise<void> | null = null
  private again = false
  private cancelTimer: (() => void) | null = null
  private closed = false
  /** Aborts every attempt running: closing does not wait for a receiver that never answers. */
  private readonly closing = new AbortController()

  constructor (private readonly options: DispatcherOptions) {}

  /** Attempts now running, over every target. */
  get running (): number {
    return this.attempts.size
  }

  /** Looks for due deliveries now (after an event was queued, a webhook enabled, an attempt ended). */
  pump (): void {
    if (this.closed) return
    if (this.pumping !== null) {
      this.again = true
      return
    }
    this.pumping = this.round().catch((err: unknown) => {
      this.options.log.warn({ err }, 'webhooks: could not read the delivery queue; trying again shortly')
    }).finally(() => {
      this.pumping = null
      if (this.again) {
        this.again = false
        this.pump()
      } else {
        void this.arm()
      }
    })
  }

  async close (): Promise<void> {
    this.closed = true
    this.cancelTimer?.()
    this.closing.abort()
    await this.pumping
    await Promise.allSettled([...this.attempts])
  }

  private async round (): Promise<void> {
    const { store, time, attemptTimeoutMs, maxInFlightPerTarget } = this.options
    // Looked at once the timers running now are done: a clock moved in one step (a test's) counts whole.
    await Promise.resolve()
    if (this.options.active?.() === false) return
    // A claim outlasts the attempt's deadline and the saving of its outcome (as long again, at most 5 s):
    // a replica killed mid-attempt has its deliveries taken over that much after their attempts began.
    const due = await store.claimDue(time.now(), BATCH, attemptTimeoutMs + Math.min(attemptTimeoutMs, 5_000))
    for (const item of due) {
      const target = originOf(item.webhook.url)
      const busy = this.inFlight.get(target) ?? 0
      if (busy >= maxInFlightPerTarget || this.closed) {
        await store.release(item.delivery.id)
        continue
      }
      this.inFlight.set(target, busy + 1)
      const attempt = this.attempt(item).catch((err: unknown) => {
        this.options.log.error({ err, deliveryId: item.delivery.id }, 'webhooks: an attempt failed unexpectedly')
      }).finally(() => {
        const left = (this.inFlight.get(target) ?? 1) - 1
        if (left <= 0) this.inFlight.delete(target)
        else this.inFlight.set(target, left)
        this.attempts.delete(attempt)
        this.pump()
      })
      this.attempts.add(attempt)
    }
  }

  /** Sets the timer of the next look: the next due delivery, or a tick, whichever is sooner. */
  private async arm (): Promise<void> {
    if (this.closed) return
    const { time, tickMs, store } = this.options
    let next: number | null = null
    try {
      if (this.options.active?.() !== false) next = await store.nextDue()
    } catch {
      next = null
    }
    if (this.closed) return
    this.cancelTimer?.()
    const inMs = Math.min(tickMs, next === null ? tickMs : Math.max(0, next - time.now()))
    this.cancelTimer = time.after(inMs, () => { this.cancelTimer = null; this.pump() })
    if (idles.hasSubscribers) idles.publish({ owner: this.options.owner ?? this, running: this.attempts.size, nextInMs: inMs } satisfies IdleMessage)
  }

  private async attempt ({ delivery, webhook }: DueDelivery): Promise<void> {
    const { time, send, schedule, log } = this.options
    const number = delivery.attempts.length + 1
    const started = time.now()
    const headers = signedHeaders(delivery.eventId, delivery.payload, webhook.secrets, started, new Date())
    const controller = new AbortController()
    const cancel = time.after(this.options.attemptTimeoutMs, () => { controller.abort() })
    const result = await send(webhook.url, headers, delivery.payload, AbortSignal.any([controller.signal, this.closing.signal])).finally(cancel)
    // Cut short by shutdown: not an attempt; its claim lapses and another replica, or this one restarted, tries again.
    if (this.closing.signal.aborted && !controller.signal.aborted) return
    const now = time.now()
    const record: Attempt = {
      at: new Date().toISOString(),
      statusCode: result.statusCode,
      error: result.error,
      durationMs: Math.max(0, now - started),
      responseBody: result.responseBody
    }
    const updated: Delivery = { ...delivery, attempts: [...delivery.attempts, record] }
    const status = result.statusCode
    let outcome: AttemptOutcome
    if (status !== null && status >= 200 && status < 300) {
      outcome = 'delivered'
      updated.state = 'delivered'
      updated.nextAttemptAt = null
    } else if (status === 410) {
      outcome = 'gone'
      updated.state = 'failed'
      updated.nextAttemptAt = null
    } else if (number > schedule.length) {
      outcome = 'failed'
      updated.state = 'failed'
      updated.nextAttemptAt = null
    } else {
      outcome = 'retry'
      const delay = schedule[number - 1] ?? 0
      updated.nextAttemptAt = now + Math.round(delay * (0.8 + 0.4 * (this.options.random ?? Math.random)()))
    }
    await this.options.store.finish(updated)
    log.info({
      webhookId: webhook.id,
      deliveryId: delivery.id,
      eventId: delivery.eventId,
      eventType: delivery.eventType,
      target: originOf(webhook.url),
      attempt: number,
      statusCode: status,
      error: result.error,
      outcome,
      durationMs: record.durationMs,
      ...(updated.nextAttemptAt === null ? {} : { nextAttemptInMs: updated.nextAttemptAt - now })
    }, `webhook delivery attempt ${number}: ${outcome}`)
    await this.settleWebhook(webhook.id, outcome, now)
    this.options.onAttempt?.(outcome, number, updated)
  }

  /** A success clears the webhook's failing streak; 410, or failing for disableAfterMs, disables it. */
  private async settleWebhook (id: string, outcome: AttemptOutcome, now: number): Promise<void> {
    const { store, disableAfterMs } = this.options
    const webhook = await store.get(id)
    if (webhook === null) return
    let reason: string | null = null
    if (outcome === 'delivered') {
      if (webhook.failingSince === null) return
      webhook.failingSince = null
    } else if (outcome === 'gone') {
      reason = 'the receiver answered 410 Gone'
    } else {
      webhook.failingSince ??= now
      if (now - webhook.failingSince >= disableAfterMs) {
        reason = `every attempt failed for ${spanOf(now - webhook.failingSince)} (WEBHOOKS_DISABLE_AFTER_MS)`
      }
    }
    if (reason !== null) {
      if (!webhook.enabled) return
      webhook.enabled = false
      webhook.disabledReason = reason
      webhook.failingSince = null
    }
    await store.update(webhook)
    if (reason !== null) await this.options.onDisabled?.(webhook, reason)
  }
}

/** A span of time as a reader says it: in seconds, minutes, hours or days, whichever gives at least 2. */
export function spanOf (ms: number): string {
  const units: Array<[string, number]> = [['days', 86_400_000], ['hours', 3_600_000], ['minutes', 60_000]]
  for (const [name, size] of units) if (ms >= 2 * size) return `${Math.round(ms / size)} ${name}`
  return `${Math.round(ms / 1000)} seconds`
}

export function originOf (url: string): string {
  try {
    return new URL(url).origin
  } catch {
    return url
  }
}
