import type { Redis } from 'ioredis'
import type { RedisLink } from './redis.js'

/*
 * Redis pub/sub channels shared by many listeners over the one subscribed connection: a channel is
 * subscribed when its first listener joins and unsubscribed when its last leaves. ioredis subscribes
 * again by itself after a reconnect; what was published meanwhile is lost, which each user makes up
 * for (the poll leases compare versions at every round). A subscription waits for Redis at most the
 * link's deadline; one that failed is asked for again the next time a listener needs it.
 */

export type ChannelListener = (message: string) => void

interface Subscription {
  readonly confirmed: Promise<boolean>
  /** How it settled: null while Redis has not answered. */
  ok: boolean | null
}

export class Channels {
  private readonly connection: Redis
  private readonly listeners = new Map<string, Set<ChannelListener>>()
  private readonly subscriptions = new Map<string, Subscription>()

  constructor (private readonly link: RedisLink) {
    this.connection = link.pubsub()
    this.connection.on('message', (channel: string, message: string) => {
      for (const listener of this.listeners.get(channel) ?? []) listener(message)
    })
  }

  /** Whether the subscribed connection is up now. */
  get up (): boolean {
    return this.connection.status === 'ready'
  }

  /** Listens to `channel`; the promise says whether the subscription is in place (false: not in time). */
  join (channel: string, listener: ChannelListener): Promise<boolean> {
    let listeners = this.listeners.get(channel)
    if (listeners === undefined) this.listeners.set(channel, listeners = new Set())
    listeners.add(listener)
    return this.ready(channel)
  }

  /** Whether `channel` is subscribed, subscribing again when the last attempt failed. */
  ready (channel: string): Promise<boolean> {
    if (!this.listeners.has(channel)) return Promise.resolve(false)
    const current = this.subscriptions.get(channel)
    if (current !== undefined && current.ok !== false) return current.confirmed
    const subscription: Subscription = {
      ok: null,
      confirmed: this.link.bounded(this.connection.subscribe(channel)).then(() => true, () => false).then((ok) => {
        subscription.ok = ok
        return ok
      })
    }
    this.subscriptions.set(channel, subscription)
    return subscription.confirmed
  }

  leave (channel: string, listener: ChannelListener): void {
    const listeners = this.listeners.get(channel)
    if (listeners?.delete(listener) !== true || listeners.size > 0) return
    this.listeners.delete(channel)
    this.subscriptions.delete(channel)
    this.link.bounded(this.connection.unsubscribe(channel)).catch(() => {})
  }
}
