import type { Redis } from 'ioredis'

/*
 * Redis pub/sub channels shared by many listeners over the one subscribed connection: a channel is
 * subscribed when its first listener joins and unsubscribed when its last leaves. ioredis subscribes
 * again by itself after a reconnect; what was published meanwhile is lost, which each user makes up
 * for (the poll leases compare versions at every round).
 */

export type ChannelListener = (message: string) => void

export class Channels {
  private readonly listeners = new Map<string, Set<ChannelListener>>()
  /** Settles true once Redis confirmed the subscription, false if it refused it. */
  private readonly subscribed = new Map<string, Promise<boolean>>()

  constructor (private readonly link: Redis) {
    link.on('message', (channel: string, message: string) => {
      for (const listener of this.listeners.get(channel) ?? []) listener(message)
    })
  }

  /** Whether the subscribed connection is up now. */
  get up (): boolean {
    return this.link.status === 'ready'
  }

  /** Listens to `channel`; the promise says when the subscription is in place. */
  join (channel: string, listener: ChannelListener): Promise<boolean> {
    let listeners = this.listeners.get(channel)
    if (listeners === undefined) {
      this.listeners.set(channel, listeners = new Set())
      this.subscribed.set(channel, this.link.subscribe(channel).then(() => true, () => false))
    }
    listeners.add(listener)
    return this.subscribed.get(channel) ?? Promise.resolve(false)
  }

  leave (channel: string, listener: ChannelListener): void {
    const listeners = this.listeners.get(channel)
    if (listeners?.delete(listener) !== true || listeners.size > 0) return
    this.listeners.delete(channel)
    this.subscribed.delete(channel)
    this.link.unsubscribe(channel).catch(() => {})
  }
}
