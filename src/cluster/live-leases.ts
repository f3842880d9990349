import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { FastifyBaseLogger } from 'fastify'
import type { PollShare, Round, ShareListener } from '../domain/live/share.js'
import { realTime, type LiveTime } from '../domain/live/time.js'
import type { Channels } from './channels.js'
import type { RedisLink } from './redis.js'
import { decodeValue, encodeValue } from './values.js'
import { PUBLISH, RELEASE, ROUND } from './live-scripts.js'

/*
 * One poller per (resource, credential scope) in the whole cluster (domain/live/share.ts on Redis).
 * Per poller key, four names under REDIS_KEY_PREFIX:
 * - `live:lease:<key>`: the id of the replica that polls, with an expiry. A replica with subscribers
 *   takes it with SET NX at its round; the holder renews it at each round and after each poll, until
 *   its next poll plus half an interval; it deletes it when its last subscriber leaves (or on close).
 * - `live:want:<key>`: the other replicas with subscribers, each until a little after its next round.
 *   A holder that holds two leases more than one of them hands it the lease (live-scripts.ts), so
 *   that leases spread over the replicas (`live:held:<replica>` counts each replica's leases).
 * - `live:state:<key>`: the last value published (epoch, seq, value) and when a poll last confirmed
 *   it, kept while pollers renew it. A holder publishes only a value that differs from it, so a new
 *   holder does not send again what the old one published, nor miss what changed in between.
 * - channel `live:changes:<key>`: `change <epoch> <seq> <value>` on each published change, `released`
 *   when the holder leaves (the others ask for the lease at once instead of at their next round),
 *   `handover <replica>` when a holder hands the lease on (that replica polls at once), `hurry` when a
 *   replica that does not hold it saw a change of another resource of the dataset (the holder, which
 *   may be polling a settled resource at a long interval, goes back to the fast one).
 * A replica that does not hold the lease asks again when it expires (at most an interval later) and
 * meanwhile hears the changes; each round also tells it the state's version, so a change it missed
 * (pub/sub loses what is sent while its connection is down) reaches it within two rounds.
 * A new subscriber's first event is the state now: a replica shows the stored state before a poll of
 * its own only when it is fresh (a poll confirmed it within 1.5 intervals, or before the holder's next
 * poll is due when it polls a settled resource less often, and after the dataset's last write,
 * `live:written:<datasetId>`); otherwise it polls first (holding the lease) or waits for the holder's
 * next poll. The value is the upstream record as parsed; the credential that fetched it
 * never leaves the replica. While Redis cannot be reached, every replica polls for itself.
 */

interface Version { readonly epoch: string, readonly seq: number }
interface Known extends Version { readonly json: string }

type LeaseCommands = Redis & {
  liveRound: (
    lease: string, state: string, want: string, written: string,
    me: string, leaseMs: number, stateMs: number, epoch: string, seq: number, wantMs: number, freshMs: number,
    heldPrefix: string, heldMs: number, channel: string, counted: string
  ) => Promise<unknown[]>
  livePublish: (
    lease: string, state: string,
    me: string, leaseMs: number, stateMs: number, json: string, epoch: string, channel: string, polledMsAgo: string, held: string
  ) => Promise<unknown[] | null>
  liveRelease: (lease: string, want: string, me: string, channel: string, held: string) => Promise<number>
}

const POLL: Round = { poll: true }

/**
 * How the cluster's last state stands, as a round reads it: confirmed by a poll within its window, older
 * (its holder's poll came late, or it stopped polling), or from before a write to its dataset.
 */
type Freshness = 'fresh' | 'old' | 'before-write'
const FRESHNESS: readonly Freshness[] = ['old', 'fresh', 'before-write']

/** The mark of a dataset's last write (invalidations.ts sets it): a state polled before it is not fresh. */
export function writtenKey (link: RedisLink, datasetId: string): string {
  return link.key(`live:written:${datasetId}`)
}

export class LiveLeases {
  /** This replica, as lease holders are named. */
  readonly me = randomUUID()
  private readonly holding = new Set<LeaseShare<unknown>>()
  private readonly releasing = new Set<Promise<unknown>>()
  /** Cancels the next heartbeat. */
  private stopBeat: () => void

  constructor (
    private readonly link: RedisLink,
    readonly channels: Channels,
    readonly intervalMs: number,
    private readonly log: FastifyBaseLogger,
    /** The clock and timers of the heartbeat, and of a poll's age (the pollers' own). */
    readonly time: LiveTime = realTime,
    /** The longest interval of a settled resource's holder: the state outlives it. */
    readonly maxIntervalMs: number = intervalMs
  ) {
    const commands = link.commands
    commands.defineCommand('liveRound', { numberOfKeys: 4, lua: ROUND })
    commands.defineCommand('livePublish', { numberOfKeys: 2, lua: PUBLISH })
    commands.defineCommand('liveRelease', { numberOfKeys: 2, lua: RELEASE })
    // This replica's lease count, as the hand-overs compare it: rewritten every heartbeat, since a
    // lease can also end by expiry (a lost renewal), which no script sees.
    const beat = (): void => {
      this.stopBeat = time.after(link.heartbeatMs, beat, { unref: true })
      if (!this.link.up) return
      this.link.run(async (redis) => await redis.set(this.heldKey(this.me), this.holding.size, 'PX', this.heldMs)).catch(() => {})
    }
    this.stopBeat = time.after(link.heartbeatMs, beat, { unref: true })
  }

  /** The PollSharing of the live registry. */
  readonly share = <T>(key: string, listener: ShareListener<T>, datasetId: string): PollShare<T> =>
    new LeaseShare<T>(this, key.replaceAll(' ', ':'), datasetId, listener)

  /** Leases this replica holds now (a metric). */
  get held (): number {
    return this.holding.size
  }

  /** Resolves once the releases already sent are answered (shutdown, before the link closes), and drops this replica's count. */
  async drain (): Promise<void> {
    this.stopBeat()
    await Promise.allSettled([...this.releasing])
    if (this.link.up) await this.link.run(async (redis) => await redis.del(this.heldKey(this.me))).catch(() => {})
  }

  /** Both connections up and Redis answering: a round may ask Redis; otherwise the poller polls alone. */
  get up (): boolean {
    return this.link.up && this.channels.up
  }

  names (key: string, datasetId: string): { lease: string, state: string, want: string, channel: string, written: string } {
    return {
      lease: this.link.key(`live:lease:${key}`),
      state: this.link.key(`live:state:${key}`),
      want: this.link.key(`live:want:${key}`),
      channel: this.link.key(`live:changes:${key}`),
      written: writtenKey(this.link, datasetId)
    }
  }

  heldKey (replica: string): string {
    return this.link.key(`live:held:${replica}`)
  }

  /** How long a replica's lease count lasts unrenewed: three heartbeats, as its connection slots. */
  get heldMs (): number {
    return this.link.heartbeatMs * 3
  }

  /** How long a lease lasts from a round: the poll it covers, and the renewal after it. */
  get roundLeaseMs (): number {
    return Math.ceil(this.intervalMs * 1.5)
  }

  /** How long a replica's wish for a lease lasts: it asks again at least once an interval. */
  get wantMs (): number {
    return Math.ceil(this.intervalMs * 2.5)
  }

  /** How recent a poll must be for its state to be shown before a poll of one's own: an interval with its jitter and the poll's own time. */
  get freshMs (): number {
    return Math.ceil(this.intervalMs * 1.5)
  }

  /** How long the last published value is kept once nobody renews it. */
  get stateMs (): number {
    return Math.max(60_000, this.intervalMs * 10, this.maxIntervalMs * 3)
  }

  /** One lease command within the link's deadline; rejects at once while Redis is unavailable (the link logged it). */
  async run<R>(command: (commands: LeaseCommands) => Promise<R>): Promise<R> {
    return await this.link.run(async (redis) => await command(redis as LeaseCommands))
  }

  hold (share: LeaseShare<unknown>, held: boolean): void {
    if (held) this.holding.add(share)
    else this.holding.delete(share)
  }

  release (lease: string, want: string, channel: string): void {
    if (!this.link.up) return
    const sent = this.run(async (c) => await c.liveRelease(lease, want, this.me, channel, this.heldKey(this.me))).catch(() => {})
    this.releasing.add(sent)
    void sent.finally(() => { this.releasing.delete(sent) })
  }

  warn (details: object, message: string): void {
    this.log.warn(details, message)
  }
}

class LeaseShare<T> implements PollShare<T> {
  private readonly names: { lease: string, state: string, want: string, channel: string, written: string }
  /** The cluster's last published value, as far as this replica knows. */
  private known: Known | null = null
  /** A newer state a round reported that no message has brought yet: delivered at the next round if still missing. */
  private behind: string | null = null
  private joined = false
  private holding = false
  private left = false
  private readonly onMessage = (message: string): void => { this.message(message) }

  constructor (private readonly leases: LiveLeases, key: string, datasetId: string, private readonly listener: ShareListener<T>) {
    this.names = leases.names(key, datasetId)
    void leases.channels.join(this.names.channel, this.onMessage).then((joined) => { this.joined ||= joined })
  }

  async round (): Promise<Round> {
    if (this.left || !this.leases.up) return this.alone()
    // Changes are heard only once subscribed; the wait is the link's deadline at most (a timer of its
    // own would fire before a reply that came while the event loop was busy is read: redis.ts).
    if (!this.joined) this.joined = await this.leases.channels.ready(this.names.channel)
    if (!this.joined) return this.alone()
    const { lease, state, want, written, channel } = this.names
    try {
      const { me, roundLeaseMs, stateMs, wantMs, freshMs, heldMs } = this.leases
      const reply = await this.leases.run(async (c) => await c.liveRound(
        lease, state, want, written,
        me, roundLeaseMs, stateMs, this.known?.epoch ?? '', this.known?.seq ?? 0, wantMs, freshMs, this.leases.heldKey(''), heldMs, channel,
        this.holding ? '1' : '0'
      ))
      if (this.left) return POLL
      const [mine, ttl, exists, fresh, epoch, seq, json] = reply
      this.setHolding(mine === 1)
      // No state (Redis lost it, or nothing was published yet): the holder publishes its next poll whatever it is.
      if (exists === 0) this.known = null
      if (typeof epoch === 'string' && typeof json === 'string') this.stored({ epoch, seq: Number(seq), json }, FRESHNESS[Number(fresh)] ?? 'old')
      if (this.holding) return POLL
      // Asked again just after the lease expires, and at least once an interval (the version check above).
      const expiresIn = Number(ttl) > 0 ? Number(ttl) + 10 : this.leases.intervalMs
      return { poll: false, retryInMs: Math.max(5, Math.min(this.leases.intervalMs, expiresIn)) }
    } catch {
      return this.alone()
    }
  }

  async polled (value: T | null, nextInMs: number, startedAt: number): Promise<void> {
    if (this.left || !this.holding) return
    const json = value === null ? '' : encodeValue(value)
    const { lease, state, channel } = this.names
    const leaseMs = Math.ceil(nextInMs + this.leases.intervalMs / 2)
    const publish = json === '' || json === this.known?.json ? '' : json
    // A failed poll renews the lease but confirms nothing.
    const polledMsAgo = value === null ? '' : String(Math.max(0, Math.round(this.leases.time.now() - startedAt)))
    try {
      const { me, stateMs } = this.leases
      const reply = await this.leases.run(async (c) =>
        await c.livePublish(lease, state, me, leaseMs, stateMs, publish, randomUUID(), channel, polledMsAgo, this.leases.heldKey(me)))
      if (reply === null) {
        // Lost meanwhile (a poll longer than the lease): another replica polls now.
        this.setHolding(false)
        return
      }
      const [epoch, seq] = reply
      if (typeof epoch === 'string') this.known = { epoch, seq: Number(seq), json: publish }
    } catch {
      this.setHolding(false)
    }
  }

  hurry (): void {
    if (this.left || this.holding || !this.leases.up) return
    const { channel } = this.names
    this.leases.run(async (c) => await c.publish(channel, 'hurry')).catch(() => {})
  }

  leave (): void {
    if (this.left) return
    this.left = true
    this.leases.channels.leave(this.names.channel, this.onMessage)
    // Sent whether or not this replica thinks it holds it: a round's answer may still be on its way.
    this.leases.release(this.names.lease, this.names.want, this.names.channel)
    this.setHolding(false)
  }

  /**
   * The cluster's last value, as a round read it. Shown when fresh to a newcomer, to a holder, or to a
   * follower whose message did not come within a round. A holder that took the lease before the
   * message of the last change reached it shows that change too, though the poll that found it is old
   * (the other replicas' subscribers had it, in that order), unless a write came after that poll;
   * otherwise it only compares its poll with it (the poll follows at once). A newcomer otherwise waits
   * for the holder's next poll; a follower waits a round for the message that may still be on its way.
   */
  private stored (state: Known, freshness: Freshness): void {
    const version = `${state.epoch} ${String(state.seq)}`
    if (this.holding) {
      const missed = freshness === 'old' && this.known !== null && this.known.epoch === state.epoch && this.known.seq < state.seq
      if (freshness === 'fresh' || missed) this.accept(state)
      else {
        this.known = state
        this.behind = null
      }
    } else if (this.known === null) {
      if (freshness === 'fresh') this.accept(state)
    } else if (this.behind === version) {
      this.accept(state)
    } else {
      this.behind = version
    }
  }

  private message (message: string): void {
    if (this.left) return
    if (message === 'released' || message === `handover ${this.leases.me}`) {
      this.listener.wake()
      return
    }
    if (message === 'hurry') {
      if (this.holding) this.listener.hurry()
      return
    }
    const match = /^change (\S+) (\d+) ([\s\S]*)$/.exec(message)
    if (match === null) return
    const [, epoch = '', seq = '0', json = ''] = match
    const known = this.known
    // Messages and round answers travel on two connections: never step back to an older version.
    if (known !== null && known.epoch === epoch && Number(seq) <= known.seq) return
    this.accept({ epoch, seq: Number(seq), json })
  }

  private accept (known: Known): void {
    this.known = known
    this.behind = null
    let value: T
    try {
      value = decodeValue(known.json) as T
    } catch (err) {
      this.leases.warn({ err: { message: err instanceof Error ? err.message : String(err) } }, 'poll leases: a published value could not be read; ignored')
      return
    }
    this.listener.hear(value)
  }

  private alone (): Round {
    this.setHolding(false)
    return POLL
  }

  private setHolding (held: boolean): void {
    this.holding = held
    this.leases.hold(this as LeaseShare<unknown>, held && !this.left)
  }
}
