import type { Delivery, Webhook } from './model.js'

/*
 * Where webhooks and their deliveries live: this process (MemoryWebhookStore: lost on restart), or
 * Redis (src/cluster/webhooks.ts: shared by the replicas, kept across restarts), chosen once by
 * src/plugins/redis.ts. A delivery is claimed for one attempt at a time, by one replica, for a lease;
 * only the oldest pending delivery of a (webhook, resource) queue can be claimed, so the events of one
 * resource reach one webhook in order.
 */

export interface DueDelivery {
  delivery: Delivery
  webhook: Webhook
}

export class StoreFull extends Error {}
export class StoreUnavailable extends Error {}

export interface WebhookStore {
  /** Whether registrations and deliveries survive a restart (Redis). */
  readonly durable: boolean
  /** Adds `webhook` unless its owner has `maxPerOwner` already (false then). */
  create: (webhook: Webhook, maxPerOwner: number) => Promise<boolean>
  get: (id: string) => Promise<Webhook | null>
  list: (owner: string) => Promise<Webhook[]>
  /** Every webhook of every owner (the watcher follows their datasets). */
  all: () => Promise<Webhook[]>
  update: (webhook: Webhook) => Promise<void>
  /** Deletes the webhook, its queue and its log. */
  delete: (id: string) => Promise<boolean>
  /** Queues a delivery behind the others of its (webhook, resource); false when one of that id exists already. Throws StoreFull past the bound. */
  enqueue: (delivery: Delivery) => Promise<boolean>
  /** Claims (for `leaseMs`) up to `limit` deliveries due by `now`, each the head of its queue, of an enabled webhook. */
  claimDue: (now: number, limit: number, leaseMs: number) => Promise<DueDelivery[]>
  /** Gives a claim back without an attempt. */
  release: (id: string) => Promise<void>
  /** Saves the delivery after an attempt and ends its claim; a delivery no longer pending leaves its queue. */
  finish: (delivery: Delivery) => Promise<void>
  /** Puts a settled delivery back at the end of its queue, due now (redeliver); false when it is pending already. Throws StoreFull past the bound. */
  requeue: (delivery: Delivery) => Promise<boolean>
  /** The webhook's log, newest first. */
  deliveries: (webhookId: string, limit: number) => Promise<Delivery[]>
  delivery: (webhookId: string, id: string) => Promise<Delivery | null>
  /** Pending deliveries, and the creation time of the oldest (null when none). */
  backlog: () => Promise<{ pending: number, oldestCreatedAt: number | null }>
  /** When the next pending delivery falls due (null when none). */
  nextDue: () => Promise<number | null>
  close: () => Promise<void>
}

const copy = <T>(value: T): T => structuredClone(value)

/** In this process: what one replica needs, lost on restart. `maxPending` bounds the queued deliveries, `logLimit` each webhook's log. */
export class MemoryWebhookStore implements WebhookStore {
  readonly durable = false
  private readonly webhooks = new Map<string, Webhook>()
  private readonly records = new Map<string, Delivery>()
  /** Pending delivery ids by `webhookId resource`, oldest first. */
  private readonly queues = new Map<string, string[]>()
  /** Every delivery id of a webhook, oldest first, at most logLimit settled ones kept. */
  private readonly logs = new Map<string, string[]>()
  private readonly claims = new Map<string, number>()
  private pendingCount = 0

  constructor (private readonly maxPending: number, private readonly logLimit: number, private readonly now: () => number) {}

  async create (webhook: Webhook, maxPerOwner: number): Promise<boolean> {
    if ([...this.webhooks.values()].filter((w) => w.owner === webhook.owner).length >= maxPerOwner) return false
    this.webhooks.set(webhook.id, copy(webhook))
    return true
  }

  async get (id: string): Promise<Webhook | null> {
    const webhook = this.webhooks.get(id)
    return webhook === undefined ? null : copy(webhook)
  }

  async list (owner: string): Promise<Webhook[]> {
    return [...this.webhooks.values()].filter((w) => w.owner === owner).map(copy)
  }

  async all (): Promise<Webhook[]> {
    return [...this.webhooks.values()].map(copy)
  }

  async update (webhook: Webhook): Promise<void> {
    if (this.webhooks.has(webhook.id)) this.webhooks.set(webhook.id, copy(webhook))
  }

  async delete (id: string): Promise<boolean> {
    if (!this.webhooks.delete(id)) return false
    for (const deliveryId of this.logs.get(id) ?? []) {
      if (this.records.get(deliveryId)?.state === 'pending') this.pendingCount--
      this.records.delete(deliveryId)
      this.claims.delete(deliveryId)
    }
    this.logs.delete(id)
    for (const key of [...this.queues.keys()]) if (key.startsWith(`${id} `)) this.queues.delete(key)
    return true
  }

  async enqueue (delivery: Delivery): Promise<boolean> {
    if (this.records.has(delivery.id)) return false
    if (!this.webhooks.has(delivery.webhookId)) return false
    if (delivery.state === 'pending') {
      if (this.pendingCount >= this.maxPending) throw new StoreFull(`${this.maxPending} deliveries are pending already (WEBHOOKS_MAX_PENDING)`)
      this.pendingCount++
      this.queue(delivery).push(delivery.id)
    }
    this.records.set(delivery.id, copy(delivery))
    this.log(delivery.webhookId, delivery.id)
    return true
  }

  async claimDue (now: number, limit: number, leaseMs: number): Promise<DueDelivery[]> {
    const due: DueDelivery[] = []
    for (const [key, ids] of this.queues) {
      if (due.length >= limit) break
      const head = ids[0]
      if (head === undefined) { this.queues.delete(key); continue }
      const delivery = this.records.get(head)
      const webhook = delivery === undefined ? undefined : this.webhooks.get(delivery.webhookId)
      if (delivery === undefined || webhook === undefined || !webhook.enabled) continue
      if ((this.claims.get(head) ?? -Infinity) > this.now()) continue
      if (delivery.nextAttemptAt === null || delivery.nextAttemptAt > now) continue
      this.claims.set(head, this.now() + leaseMs)
      due.push({ delivery: copy(delivery), webhook: copy(webhook) })
    }
    return due
  }

  async release (id: string): Promise<void> {
    this.claims.delete(id)
  }

  async finish (delivery: Delivery): Promise<void> {
    this.claims.delete(delivery.id)
    const before = this.records.get(delivery.id)
    if (before === undefined) return
    this.records.set(delivery.id, copy(delivery))
    if (before.state === 'pending' && delivery.state !== 'pending') {
      this.pendingCount--
      const ids = this.queue(delivery)
      const at = ids.indexOf(delivery.id)
      if (at >= 0) ids.splice(at, 1)
      if (ids.length === 0) this.queues.delete(`${delivery.webhookId} ${delivery.resource}`)
    }
  }

  async requeue (delivery: Delivery): Promise<boolean> {
    const before = this.records.get(delivery.id)
    if (before === undefined || before.state === 'pending') return false
    if (this.pendingCount >= this.maxPending) throw new StoreFull(`${this.maxPending} deliveries are pending already (WEBHOOKS_MAX_PENDING)`)
    this.pendingCount++
    this.records.set(delivery.id, copy(delivery))
    this.queue(delivery).push(delivery.id)
    return true
  }

  async deliveries (webhookId: string, limit: number): Promise<Delivery[]> {
    const ids = this.logs.get(webhookId) ?? []
    return ids.slice(-limit).reverse().flatMap((id) => {
      const delivery = this.records.get(id)
      return delivery === undefined ? [] : [copy(delivery)]
    })
  }

  async delivery (webhookId: string, id: string): Promise<Delivery | null> {
    const delivery = this.records.get(id)
    return delivery === undefined || delivery.webhookId !== webhookId ? null : copy(delivery)
  }

  async backlog (): Promise<{ pending: number, oldestCreatedAt: number | null }> {
    let oldest: number | null = null
    for (const ids of this.queues.values()) {
      const head = ids[0] === undefined ? undefined : this.records.get(ids[0])
      if (head !== undefined && (oldest === null || head.createdAt < oldest)) oldest = head.createdAt
    }
    return { pending: this.pendingCount, oldestCreatedAt: oldest }
  }

  async nextDue (): Promise<number | null> {
    let next: number | null = null
    for (const ids of this.queues.values()) {
      const head = ids[0] === undefined ? undefined : this.records.get(ids[0])
      if (head === undefined || head.nextAttemptAt === null || this.webhooks.get(head.webhookId)?.enabled !== true) continue
      const at = Math.max(head.nextAttemptAt, this.claims.get(head.id) ?? -Infinity)
      if (next === null || at < next) next = at
    }
    return next
  }

  async close (): Promise<void> {}

  private queue (delivery: Delivery): string[] {
    const key = `${delivery.webhookId} ${delivery.resource}`
    let ids = this.queues.get(key)
    if (ids === undefined) this.queues.set(key, ids = [])
    return ids
  }

  /** Adds to the webhook's log; past logLimit, its oldest settled delivery is forgotten. */
  private log (webhookId: string, id: string): void {
    let ids = this.logs.get(webhookId)
    if (ids === undefined) this.logs.set(webhookId, ids = [])
    ids.push(id)
    if (ids.length <= this.logLimit) return
    const at = ids.findIndex((old) => this.records.get(old)?.state !== 'pending')
    if (at < 0) return
    const [old] = ids.splice(at, 1)
    if (old !== undefined) this.records.delete(old)
  }
}
