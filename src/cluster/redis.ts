import { Redis } from 'ioredis'
import type { FastifyBaseLogger } from 'fastify'
import type { RedisSettings } from '../config.js'

/*
 * The gateway's link to Redis when REDIS_URL is set: one connection for commands and one for pub/sub
 * (a subscribed connection can run nothing else). Every key and channel name
 * goes through `key()`, so REDIS_KEY_PREFIX keeps gateways (and tests) that share a Redis apart.
 *
 * No request waits for Redis longer than REDIS_COMMAND_TIMEOUT_MS: every wait goes through `run` or
 * `bounded`; what every request does (a rate-limit count, a connection slot) goes through `runForRequest`,
 * which stops waiting after REDIS_REQUEST_TIMEOUT_MS and lets the command finish (or time out) without it.
 * A wait that passes the command deadline, or a lost connection, starts an outage: one warning, the
 * vlgw_redis_up gauge at 0, and every later `run` fails at once (each feature then falls back as
 * docs/deployment.md, "Several replicas", says) until a probe answers again, which ends it with one line. A
 * stalled Redis (paused, swapping) keeps its socket open, so only a deadline tells it from a slow one.
 * ioredis reconnects on its own.
 */

/** Redis did not answer in time, or is not connected: the caller falls back. */
export class RedisUnavailable extends Error {
  constructor (reason: string) {
    super(`Redis is unavailable: ${reason}`)
    this.name = 'RedisUnavailable'
  }
}

/** What the link tells the metrics (src/plugins/metrics.ts). */
export interface RedisObserver {
  /** A wait passed the deadline. */
  timeout: () => void
}

export interface Outage {
  readonly since: Date
  readonly reason: string
}

export class RedisLink {
  readonly commands: Redis
  private readonly subscriber: Redis
  private outageState: Outage | null = null
  /** A probe's PING is on its way: during a stall it is answered the moment Redis resumes. */
  private probing = false
  private closing = false
  private readonly lastError = new Map<string, string>()

  constructor (
    private readonly settings: RedisSettings & { url: string },
    private readonly log: FastifyBaseLogger,
    private readonly observer: RedisObserver = { timeout: () => {} }
  ) {
    this.commands = this.connect('commands')
    // Opened with the other, so that start-up waits for both: a subscription sent while it connects is not a stall.
    this.subscriber = this.connect('pubsub')
  }

  /** A key or channel name under REDIS_KEY_PREFIX. */
  key (name: string): string {
    return `${this.settings.keyPrefix}${name}`
  }

  /** How often a replica renews what it holds in Redis (REDIS_HEARTBEAT_MS). */
  get heartbeatMs (): number {
    return this.settings.heartbeatMs
  }

  /** The longest a wait for Redis lasts (REDIS_COMMAND_TIMEOUT_MS). */
  get timeoutMs (): number {
    return this.settings.commandTimeoutMs
  }

  /** Whether Redis answers now: the command connection is up and no outage is under way. */
  get up (): boolean {
    return this.commands.status === 'ready' && this.outageState === null
  }

  /** The outage under way, or null while Redis answers. */
  get outage (): Outage | null {
    return this.outageState
  }

  /** The pub/sub connection. */
  pubsub (): Redis {
    return this.subscriber
  }

  /**
   * Runs one command (or script, or transaction) on the command connection within the deadline.
   * Rejects with RedisUnavailable at once during an outage, or when the deadline passes.
   */
  async run<R>(command: (redis: Redis) => Promise<R>): Promise<R> {
    if (!this.up) {
      const reason = this.outageState?.reason ?? `not connected (${this.commands.status})`
      this.unavailable(reason)
      throw new RedisUnavailable(reason)
    }
    return await this.bounded(command(this.commands))
  }

  /**
   * `run`, but the caller stops waiting after REDIS_REQUEST_TIMEOUT_MS (RedisUnavailable, and it falls
   * back for this one request) while the command goes on under the command deadline: a stall is still
   * declared only by that deadline, so one slow answer does not start an outage, yet no request waits for it.
   */
  async runForRequest<R>(command: (redis: Redis) => Promise<R>): Promise<R> {
    const running = this.run(command)
    const ms = this.settings.requestTimeoutMs
    if (ms >= this.settings.commandTimeoutMs) return await running
    return await this.withDeadline(running, ms, () => new RedisUnavailable(`no answer within ${ms} ms for this request`))
  }

  /**
   * `pending` (a Redis reply already asked for) if it settles within the deadline; otherwise
   * RedisUnavailable, and an outage starts. The command itself may still run when Redis resumes.
   */
  async bounded<R>(pending: Promise<R>): Promise<R> {
    const ms = this.settings.commandTimeoutMs
    return await this.withDeadline(pending, ms, () => {
      this.observer.timeout()
      const reason = `no answer within ${ms} ms`
      this.unavailable(reason)
      return new RedisUnavailable(reason)
    })
  }

  /**
   * `pending` if it settles within `ms`; otherwise the error `late` makes. Looked at again once the I/O
   * already received is read: a reply that arrived while the event loop was busy elsewhere is not late.
   */
  private async withDeadline<R>(pending: Promise<R>, ms: number, late: () => Error): Promise<R> {
    return await new Promise<R>((resolve, reject) => {
      let settled = false
      const timer = setTimeout(() => {
        setImmediate(() => {
          if (settled) return
          settled = true
          reject(late())
        })
      }, ms)
      pending.then((value) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resolve(value)
      }, (err: unknown) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        reject(err)
      })
    })
  }

  /** Resolves when both connections are up, or after `timeoutMs` (start-up does not wait for Redis longer). */
  async connected (timeoutMs: number): Promise<boolean> {
    const links = [this.commands, this.subscriber]
    if (links.every((link) => link.status === 'ready')) return true
    const up = await new Promise<boolean>((resolve) => {
      const done = (ready: boolean): void => {
        clearTimeout(timer)
        for (const link of links) link.off('ready', onReady)
        resolve(ready)
      }
      const onReady = (): void => { if (links.every((link) => link.status === 'ready')) done(true) }
      const timer = setTimeout(() => { done(false) }, timeoutMs)
      for (const link of links) link.on('ready', onReady)
    })
    if (!up) this.unavailable(`not reachable within ${timeoutMs} ms of start-up`)
    return up
  }

  /** Readiness: asks Redis now when it is thought up (within the deadline), and says what the link knows. */
  async check (): Promise<{ up: true } | { up: false, outage: Outage }> {
    if (this.up) await this.run(async (redis) => await redis.ping()).catch(() => {})
    const outage = this.outageState
    if (outage !== null) return { up: false, outage }
    if (this.commands.status !== 'ready') return { up: false, outage: { since: new Date(), reason: `not connected (${this.commands.status})` } }
    return { up: true }
  }

  async close (): Promise<void> {
    this.closing = true
    const links = [this.commands, this.subscriber]
    await Promise.all(links.map(async (link) => {
      // QUIT waits for Redis like any command: a stalled one is cut off.
      try { await this.bounded(link.quit()) } catch { link.disconnect() }
    }))
  }

  /**
   * Starts an outage (once: later causes only add to it) and probes for its end. `reason` is shown
   * by readiness; `cause` (an error's message, which may name hosts) is only logged.
   */
  private unavailable (reason: string, cause?: string): void {
    if (this.closing) return
    if (this.outageState === null) {
      this.outageState = { since: new Date(), reason }
      this.log.warn(
        cause === undefined ? {} : { err: { message: cause } },
        `Redis: ${reason}; until it answers, rate limits and connection counts are per replica, ` +
          'writes with an idempotency key are refused and every replica polls for its own subscribers'
      )
    }
    this.probe()
  }

  /**
   * One PING at a time on each connection, with no deadline of its own: during a stall it waits in
   * Redis' queue and is answered as soon as Redis resumes; a connection that drops fails it, and a
   * reconnect ('ready') probes again.
   */
  private probe (): void {
    if (this.probing || this.outageState === null || this.closing) return
    const links = [this.commands, this.subscriber]
    if (links.some((link) => link.status !== 'ready')) return
    this.probing = true
    Promise.all(links.map(async (link) => await link.ping())).then(() => {
      this.probing = false
      if (this.closing || this.outageState === null) return
      if (links.some((link) => link.status !== 'ready')) return
      const { since } = this.outageState
      this.outageState = null
      this.log.info({ unavailableMs: Date.now() - since.getTime() }, 'Redis: answering again; state is shared across the replicas again')
    }, () => {
      this.probing = false
      const retry = setTimeout(() => { this.probe() }, this.settings.commandTimeoutMs)
      retry.unref()
    })
  }

  private connect (role: string): Redis {
    const link = new Redis(this.settings.url, {
      lazyConnect: false,
      // A command sent while Redis is away fails at once rather than waiting in a queue; one on its way
      // when the connection drops fails then, rather than after a reconnect (and is not sent again).
      enableOfflineQueue: role === 'pubsub',
      maxRetriesPerRequest: role === 'pubsub' ? 1 : 0,
      autoResendUnfulfilledCommands: role === 'pubsub',
      connectTimeout: 2_000,
      retryStrategy: (times) => Math.min(times * 200, 2_000)
    })
    // ioredis emits 'error' on every failed reconnect: kept for the outage's reason, not logged each time.
    link.on('error', (err: Error) => { this.lastError.set(role, err.message) })
    link.on('close', () => { this.unavailable('connection lost', `${role}: ${this.lastError.get(role) ?? 'closed'}`) })
    link.on('ready', () => {
      this.lastError.delete(role)
      this.probe()
    })
    return link
  }
}
