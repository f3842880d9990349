import { createHash, randomUUID } from 'node:crypto'
import { channel } from 'node:diagnostics_channel'
import { GatewayError } from '../../errors.js'
import type { Checked } from '../../upstream/checked.js'
import type { Credential } from '../../upstream/client.js'
import type { UpstreamDataset, UpstreamTask } from '../../upstream/schemas.js'
import type { Invalidations } from '../live/invalidation.js'
import type { LiveRegistry } from '../live/registry.js'
import { Dispatcher, type AttemptOutcome } from './dispatcher.js'
import type { Delivery, EventType, Webhook, WebhookEvent, WebhookLog, WebhookTime } from './model.js'
import { datasetEvents, event as newEvent, taskEvents } from './events.js'
import { httpSender, type Send } from './sender.js'
import { newSecret } from './signing.js'
import { StoreFull, StoreUnavailable, type WebhookStore } from './store.js'
import { allowList, TargetPolicy, TargetRefused, type Resolver } from './targets.js'
import { AccountWatcher } from './account-watcher.js'
import { DatasetWatcher, type DatasetChange, type TaskChange } from './watcher.js'

/*
 * Webhooks as the doors see them: registrations owned by one caller (others get NOT_FOUND), their
 * signing secrets (shown once, rotated with a grace period), the delivery log; and the events made from
 * the shared pollers' changes, queued for each webhook that wants them and sent by the dispatcher.
 */

/** Published after each attempt's outcome is saved (tests wait for it instead of for time). */
export interface AttemptMessage {
  readonly service: WebhookService
  readonly webhookId: string
  readonly deliveryId: string
  readonly eventId: string
  readonly outcome: AttemptOutcome
  readonly attempt: number
}

export const attempts = channel('visual-layer:webhooks:attempt')

/** Published for each event of a change offered to a webhook's queue: `queued` false when it held that event already (another replica came first). */
export interface QueuedMessage {
  readonly service: WebhookService
  readonly webhookId: string
  readonly eventId: string
  readonly eventType: string
  readonly resource: string
  readonly queued: boolean
}

export const queuedEvents = channel('visual-layer:webhooks:queued')

export interface WebhookSettings {
  maxPerOwner: number
  /** Delays (ms) before each retry; about a day in all by default. */
  schedule: readonly number[]
  attemptTimeoutMs: number
  disableAfterMs: number
  maxInFlightPerTarget: number
  maxResponseBytes: number
  /** Addresses and ranges a target may resolve to although private (WEBHOOKS_ALLOW_PRIVATE_TARGETS). */
  allowPrivateTargets: readonly string[]
}

export interface WebhookServiceOptions {
  store: WebhookStore
  live: LiveRegistry
  invalidations: Invalidations
  /** The service account the pollers use for webhooks, and its credential scope. */
  credential: Credential
  scope: string
  settings: WebhookSettings
  time: WebhookTime
  resolver: Resolver
  log: WebhookLog
  /** The resources as the REST API represents them. */
  represent: { dataset: (record: Checked<UpstreamDataset>) => unknown, task: (record: Checked<UpstreamTask>) => unknown }
  /** Sends one attempt; undici by default (sender.ts). */
  send?: Send
  onAttempt?: (outcome: AttemptOutcome, attempt: number) => void
  onDropped?: () => void
  /** How often the followed datasets are read again from the store (other replicas register too). */
  syncMs?: number
}

export interface WebhookInput {
  url: string
  events: EventType[]
  datasetIds: string[]
  description?: string | null
}

export interface WebhookPatch {
  url?: string
  events?: EventType[]
  datasetIds?: string[]
  description?: string | null
  enabled?: boolean
}

/** At most this many enriched copies are followed per webhook (the newest). */
const MAX_COPIES = 20
const LOG_PAGE = 100

export class WebhookService {
  readonly policy: TargetPolicy
  private readonly dispatcher: Dispatcher
  private readonly watcher: DatasetWatcher
  /** The account's lists, for the webhooks with no dataset filter. */
  private readonly account: AccountWatcher
  private readonly closeSender: () => Promise<void>
  private cancelSync: (() => void) | null = null
  /** The webhooks as last read: events seen while the store is unavailable are queued for these (the store keeps them until it answers). */
  private known: Webhook[] = []
  private closed = false

  constructor (private readonly options: WebhookServiceOptions) {
    const { settings, resolver, time, store, log } = options
    this.policy = new TargetPolicy(resolver, allowList(settings.allowPrivateTargets))
    let send = options.send
    if (send === undefined) {
      const sender = httpSender(this.policy, resolver, settings.maxResponseBytes)
      send = sender.send
      this.closeSender = sender.close
    } else {
      this.closeSender = async () => {}
    }
    this.dispatcher = new Dispatcher({
      store,
      time,
      send,
      schedule: settings.schedule,
      attemptTimeoutMs: settings.attemptTimeoutMs,
      disableAfterMs: settings.disableAfterMs,
      maxInFlightPerTarget: settings.maxInFlightPerTarget,
      tickMs: store.durable ? 1_000 : 60_000,
      log,
      owner: this,
      active: () => this.known.length > 0,
      onAttempt: (outcome, attempt, delivery) => {
        options.onAttempt?.(outcome, attempt)
        if (attempts.hasSubscribers) {
          const { webhookId, id: deliveryId, eventId } = delivery
          attempts.publish({ service: this, webhookId, deliveryId, eventId, outcome, attempt } satisfies AttemptMessage)
        }
      },
      onDisabled: async (webhook, reason) => { await this.recordDisabled(webhook, reason) }
    })
    this.watcher = new DatasetWatcher({
      live: options.live,
      invalidations: options.invalidations,
      credential: options.credential,
      scope: options.scope,
      log,
      onDataset: (change) => { this.fromDataset(change, 'followed') },
      onTasks: (changes) => { this.fromTasks(changes, 'followed') },
      onCopy: (copyId, sourceId) => { void this.addCopy(copyId, sourceId) }
    })
    this.account = new AccountWatcher({
      owner: this,
      live: options.live,
      credential: options.credential,
      scope: options.scope,
      log,
      onDataset: (change) => { this.fromDataset(change, 'account') },
      onTasks: (changes) => { this.fromTasks(changes, 'account') }
    })
  }

  get durable (): boolean {
    return this.options.store.durable
  }

  /** Starts following the registered webhooks' datasets and sending what is due. */
  async start (): Promise<void> {
    await this.sync()
    this.dispatcher.pump()
  }

  async close (): Promise<void> {
    this.closed = true
    this.cancelSync?.()
    this.watcher.close()
    this.account.close()
    await this.dispatcher.close()
    await this.closeSender()
  }

  /** Datasets followed one by one now; whether the account's lists are; attempts running now. */
  get following (): number { return this.watcher.size }
  get followingAccount (): boolean { return this.account.following }
  get running (): number { return this.dispatcher.running }

  async backlog (): Promise<{ pending: number, oldestAgeMs: number | null }> {
    // No webhook, no delivery (deleting one deletes its queue): the store is not asked.
    if (this.known.length === 0) return { pending: 0, oldestAgeMs: null }
    const { pending, oldestCreatedAt } = await this.options.store.backlog()
    return { pending, oldestAgeMs: oldestCreatedAt === null ? null : Math.max(0, this.options.time.now() - oldestCreatedAt) }
  }

  async disabledCount (): Promise<number> {
    if (this.known.length === 0) return 0
    return (await this.options.store.all()).filter((w) => !w.enabled).length
  }

  async create (owner: string, input: WebhookInput): Promise<{ webhook: Webhook, secret: string }> {
    await this.checkTarget(input.url)
    const secret = newSecret()
    const webhook: Webhook = {
      id: `wh_${randomUUID().replaceAll('-', '')}`,
      owner,
      url: input.url,
      events: unique(input.events),
      datasetIds: unique(input.datasetIds),
      copyIds: [],
      description: input.description ?? null,
      enabled: true,
      disabledReason: null,
      secrets: [{ secret, expiresAt: null }],
      failingSince: null,
      createdAt: new Date().toISOString()
    }
    if (!await this.write(async () => await this.options.store.create(webhook, this.options.settings.maxPerOwner))) {
      throw new GatewayError('RATE_LIMITED', `You have ${this.options.settings.maxPerOwner} webhooks already (WEBHOOKS_MAX_PER_CALLER): delete one before registering another.`)
    }
    await this.sync()
    return { webhook, secret }
  }

  async list (owner: string): Promise<Webhook[]> {
    return await this.read(async () => await this.options.store.list(owner))
  }

  /** The caller's webhook; NOT_FOUND when there is none of that id, or it is another caller's. */
  async get (owner: string, id: string): Promise<Webhook> {
    const webhook = await this.read(async () => await this.options.store.get(id))
    if (webhook === null || webhook.owner !== owner) throw new GatewayError('NOT_FOUND', `You have no webhook ${id}.`)
    return webhook
  }

  async update (owner: string, id: string, patch: WebhookPatch): Promise<Webhook> {
    const webhook = await this.get(owner, id)
    if (patch.url !== undefined) {
      await this.checkTarget(patch.url)
      webhook.url = patch.url
    }
    if (patch.events !== undefined) webhook.events = unique(patch.events)
    if (patch.datasetIds !== undefined) {
      webhook.datasetIds = unique(patch.datasetIds)
      // Every dataset now: the copies it followed are datasets of the account like any other.
      if (webhook.datasetIds.length === 0) webhook.copyIds = []
    }
    if (patch.description !== undefined) webhook.description = patch.description
    if (patch.enabled !== undefined && patch.enabled !== webhook.enabled) {
      webhook.enabled = patch.enabled
      webhook.disabledReason = patch.enabled ? null : 'disabled by its owner'
      webhook.failingSince = null
    }
    await this.write(async () => { await this.options.store.update(webhook) })
    await this.sync()
    this.dispatcher.pump()
    return webhook
  }

  async remove (owner: string, id: string): Promise<void> {
    await this.get(owner, id)
    await this.write(async () => await this.options.store.delete(id))
    await this.sync()
  }

  /** A new current secret; the old one keeps signing (beside it) for `graceMs`. Returns the new secret. */
  async rotate (owner: string, id: string, graceMs: number): Promise<{ webhook: Webhook, secret: string }> {
    const webhook = await this.get(owner, id)
    const now = this.options.time.now()
    const secret = newSecret()
    webhook.secrets = [
      { secret, expiresAt: null },
      ...webhook.secrets
        .map((old) => ({ secret: old.secret, expiresAt: old.expiresAt ?? now + graceMs }))
        .filter((old) => old.expiresAt > now && graceMs > 0)
        .slice(0, 2)
    ]
    await this.write(async () => { await this.options.store.update(webhook) })
    return { webhook, secret }
  }

  async deliveries (owner: string, id: string): Promise<Delivery[]> {
    await this.get(owner, id)
    return await this.read(async () => await this.options.store.deliveries(id, LOG_PAGE))
  }

  /** Sends a delivery again (same webhook-id), after whatever its webhook has pending for that resource. */
  async redeliver (owner: string, id: string, deliveryId: string): Promise<Delivery> {
    await this.get(owner, id)
    const delivery = await this.read(async () => await this.options.store.delivery(id, deliveryId))
    if (delivery === null) throw new GatewayError('NOT_FOUND', `Webhook ${id} has no delivery ${deliveryId} (the log keeps the newest ${LOG_PAGE}).`)
    if (delivery.state === 'pending') throw new GatewayError('CONFLICT', `Delivery ${deliveryId} is pending already: its next attempt is scheduled.`)
    if (delivery.state === 'recorded') throw new GatewayError('CONFLICT', `Delivery ${deliveryId} records an event of the gateway's own (${delivery.eventType}); it is not sent.`)
    const again: Delivery = { ...delivery, state: 'pending', nextAttemptAt: this.options.time.now() }
    // Another redelivery of it (on this replica or another) came first.
    if (!await this.write(async () => await this.options.store.requeue(again))) throw new GatewayError('CONFLICT', `Delivery ${deliveryId} is pending already: its next attempt is scheduled.`)
    if (this.known.length === 0) await this.sync()
    this.dispatcher.pump()
    return again
  }

  /** Queues a webhook.ping event for this webhook alone. */
  async ping (owner: string, id: string): Promise<Delivery> {
    const webhook = await this.get(owner, id)
    const event = newEvent(`evt_${randomUUID().replaceAll('-', '')}`, 'webhook.ping', { webhookId: webhook.id })
    // A ping is about no resource: it waits behind nothing.
    const delivery = this.deliveryOf(webhook, event, `ping ${event.id}`, 'pending')
    await this.write(async () => await this.options.store.enqueue(delivery))
    // Registered on another replica since this one last read the webhooks: read them now.
    if (this.known.length === 0) await this.sync()
    this.dispatcher.pump()
    return delivery
  }

  /** Reads the webhooks again and follows their datasets; repeats every syncMs. */
  private async sync (): Promise<void> {
    if (this.closed) return
    this.cancelSync?.()
    try {
      const webhooks = await this.options.store.all()
      this.known = webhooks
      const ids = new Set<string>()
      let accountWide = false
      for (const webhook of webhooks) {
        if (!webhook.enabled) continue
        // Every dataset: the account's lists, not its copies one by one.
        if (webhook.datasetIds.length === 0) {
          accountWide = true
          continue
        }
        for (const id of webhook.datasetIds) ids.add(id)
        for (const id of webhook.copyIds) ids.add(id)
      }
      this.watcher.sync(ids)
      this.account.set(accountWide)
    } catch (err) {
      this.options.log.warn({ err }, 'webhooks: could not read the registrations; following the same datasets until the next try')
    }
    if (this.closed) return
    this.cancelSync = this.options.time.after(this.options.syncMs ?? 10_000, () => { void this.sync() })
  }

  private async addCopy (copyId: string, sourceId: string): Promise<void> {
    try {
      for (const webhook of await this.options.store.all()) {
        if (!webhook.datasetIds.includes(sourceId) || webhook.copyIds.includes(copyId)) continue
        webhook.copyIds = [...webhook.copyIds, copyId].slice(-MAX_COPIES)
        await this.options.store.update(webhook)
      }
    } catch (err) {
      this.options.log.warn({ err, datasetId: copyId }, 'webhooks: could not record an enriched copy; this replica follows it until it restarts')
    }
  }

  private fromDataset (change: DatasetChange, audience: Audience): void {
    const events = datasetEvents(change, this.options.represent.dataset)
    if (events.length > 0) void this.queue(events, `dataset ${change.datasetId}`, change.datasetId, audience)
  }

  private fromTasks (changes: TaskChange[], audience: Audience): void {
    for (const { datasetId, task } of changes) void this.queue(taskEvents(task, this.options.represent.task), `task ${task.value.task_id}`, datasetId, audience)
  }

  /**
   * Queues each event for every enabled webhook that wants its type and follows `datasetId`: by name
   * (`followed`, from the datasets' own pollers), or as one of the account's (`account`, from its lists).
   */
  private async queue (events: WebhookEvent[], resource: string, datasetId: string, audience: Audience): Promise<void> {
    try {
      let all = this.known
      try {
        all = this.known = await this.options.store.all()
      } catch (err) {
        if (!(err instanceof StoreUnavailable)) throw err
      }
      const webhooks = all
        .filter((w) => w.enabled && (audience === 'account'
          ? w.datasetIds.length === 0
          : w.datasetIds.length > 0 && (w.datasetIds.includes(datasetId) || w.copyIds.includes(datasetId))))
      for (const webhook of webhooks) {
        for (const event of events) {
          if (!(webhook.events as string[]).includes(event.type)) continue
          try {
            const queued = await this.options.store.enqueue(this.deliveryOf(webhook, event, resource, 'pending'))
            if (queuedEvents.hasSubscribers) {
              queuedEvents.publish({ service: this, webhookId: webhook.id, eventId: event.id, eventType: event.type, resource, queued } satisfies QueuedMessage)
            }
          } catch (err) {
            if (!(err instanceof StoreFull)) throw err
            this.options.onDropped?.()
            this.options.log.error({ webhookId: webhook.id, eventId: event.id, eventType: event.type }, `webhooks: an event was dropped: ${err.message}`)
          }
        }
      }
      this.dispatcher.pump()
    } catch (err) {
      this.options.log.error({ err, resource }, 'webhooks: could not queue the events of a change')
    }
  }

  private async recordDisabled (webhook: Webhook, reason: string): Promise<void> {
    const event = newEvent(`evt_${randomUUID().replaceAll('-', '')}`, 'webhook.disabled', { webhookId: webhook.id, reason })
    await this.options.store.enqueue(this.deliveryOf(webhook, event, `webhook ${webhook.id}`, 'recorded'))
    this.options.log.warn({ webhookId: webhook.id, target: new URL(webhook.url).origin }, `webhook disabled: ${reason}`)
  }

  private deliveryOf (webhook: Webhook, event: WebhookEvent, resource: string, state: 'pending' | 'recorded'): Delivery {
    return {
      id: `dlv_${createHash('sha256').update(`${webhook.id} ${event.id}`).digest('hex').slice(0, 32)}`,
      webhookId: webhook.id,
      eventId: event.id,
      eventType: event.type,
      resource,
      payload: JSON.stringify(event),
      createdAt: this.options.time.now(),
      attempts: [],
      state,
      nextAttemptAt: state === 'pending' ? this.options.time.now() : null
    }
  }

  private async checkTarget (url: string): Promise<void> {
    const problem = TargetPolicy.problemOf(url)
    if (problem !== null) throw new GatewayError('BAD_USER_INPUT', `Body field url is refused: ${problem}.`)
    try {
      await this.policy.check(url)
    } catch (err) {
      if (!(err instanceof TargetRefused)) throw err
      throw new GatewayError('BAD_USER_INPUT', `Body field url is refused: ${err.message}.`)
    }
  }

  private async read<T> (run: () => Promise<T>): Promise<T> {
    try {
      return await run()
    } catch (err) {
      if (err instanceof StoreUnavailable) throw unavailable()
      throw err
    }
  }

  /** A change to the store: StoreUnavailable answers 503, StoreFull (WEBHOOKS_MAX_PENDING) 429; either changed nothing. */
  private async write<T> (run: () => Promise<T>): Promise<T> {
    try {
      return await this.read(run)
    } catch (err) {
      if (!(err instanceof StoreFull)) throw err
      throw new GatewayError('RATE_LIMITED', `Nothing was queued: ${err.message}. Try again once the receivers have caught up.`)
    }
  }
}

/** Where a change was seen: a followed dataset's own pollers, or the account's lists. */
type Audience = 'followed' | 'account'

function unavailable (): GatewayError {
  return new GatewayError('UPSTREAM_UNAVAILABLE', 'The webhook store the replicas share (Redis) is unavailable: nothing was changed. Try again shortly.')
}

function unique<T> (values: readonly T[]): T[] {
  return [...new Set(values)]
}
