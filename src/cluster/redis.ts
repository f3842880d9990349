import { Redis } from 'ioredis'
import type { FastifyBaseLogger } from 'fastify'
import type { RedisSettings } from '../config.js'

/*
 * The gateway's link to Redis when REDIS_URL is set: one connection for commands and, made on first
 * use, one for pub/sub (a subscribed connection can run nothing else). Every key and channel name
 * goes through `key()`, so REDIS_KEY_PREFIX keeps gateways (and tests) that share a Redis apart.
 * Commands fail fast while Redis is away instead of queueing: what each feature does then is its own
 * choice (README "Several replicas"). ioredis reconnects on its own.
 */

export class RedisLink {
  readonly commands: Redis
  private subscriber: Redis | null = null

  constructor (private readonly settings: RedisSettings & { url: string }, private readonly log: FastifyBaseLogger) {
    this.commands = this.connect('commands')
  }

  /** A key or channel name under REDIS_KEY_PREFIX. */
  key (name: string): string {
    return `${this.settings.keyPrefix}${name}`
  }

  /** How often a replica renews what it holds in Redis (REDIS_HEARTBEAT_MS). */
  get heartbeatMs (): number {
    return this.settings.heartbeatMs
  }

  /** Whether the command connection is up now. */
  get up (): boolean {
    return this.commands.status === 'ready'
  }

  /** The pub/sub connection, opened on first use. */
  pubsub (): Redis {
    this.subscriber ??= this.connect('pubsub')
    return this.subscriber
  }

  /** Resolves when the command connection is up, or after `timeoutMs` (start-up does not wait for Redis longer). */
  async connected (timeoutMs: number): Promise<boolean> {
    if (this.up) return true
    return await new Promise<boolean>((resolve) => {
      const done = (up: boolean): void => { clearTimeout(timer); this.commands.off('ready', onReady); resolve(up) }
      const onReady = (): void => { done(true) }
      const timer = setTimeout(() => { done(false) }, timeoutMs)
      this.commands.on('ready', onReady)
    })
  }

  /** Answers within `timeoutMs` with Redis' PING, or says why not (readiness). */
  async ping (timeoutMs: number): Promise<{ ok: true } | { ok: false, reason: string }> {
    if (!this.up) return { ok: false, reason: `not connected (${this.commands.status})` }
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        this.commands.ping(),
        new Promise((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`no answer within ${timeoutMs} ms`)) }, timeoutMs) })
      ])
      return { ok: true }
    } catch (err) {
      return { ok: false, reason: err instanceof Error ? err.message : String(err) }
    } finally {
      clearTimeout(timer)
    }
  }

  async close (): Promise<void> {
    const links = [this.commands, this.subscriber].filter((link): link is Redis => link !== null)
    await Promise.all(links.map(async (link) => {
      try { await link.quit() } catch { link.disconnect() }
    }))
  }

  private connect (role: string): Redis {
    const link = new Redis(this.settings.url, {
      lazyConnect: false,
      // A command sent while Redis is away fails at once rather than waiting in a queue.
      enableOfflineQueue: role === 'pubsub',
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
      retryStrategy: (times) => Math.min(times * 200, 2_000)
    })
    let wasUp = false
    link.on('ready', () => {
      if (wasUp) this.log.info({ role }, 'Redis: connected again')
      wasUp = true
    })
    // ioredis emits 'error' on every failed reconnect; one warning per outage is enough.
    let warned = false
    link.on('error', (err) => {
      if (warned) return
      warned = true
      this.log.warn({ role, err: { message: err.message } }, 'Redis: connection lost, retrying')
    })
    link.on('ready', () => { warned = false })
    return link
  }
}
