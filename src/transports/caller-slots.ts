import type { FastifyBaseLogger } from 'fastify'

/*
 * Slots per caller: how many WebSocket connections or SSE streams each caller holds, against a
 * ceiling. One implementation for every door that holds long-lived connections, so that the limit
 * means the same thing on each. CallerSlots counts in this process (also what is only this replica's
 * business: sockets per address before they authenticate); ClusterSlots counts a caller's slots over
 * every replica when REDIS_URL is set (src/cluster/slots.ts).
 */

/** A caller's slots counted over every replica (src/cluster/slots.ts on Redis), chosen by `app.sharedState`. */
export interface SharedSlots {
  take: (caller: string, max: number) => Promise<boolean>
  release: (caller: string) => Promise<void>
  /** Renews this replica's counts; false when they were lost (Redis came back empty). */
  beat: () => Promise<boolean>
  rewrite: (counts: ReadonlyMap<string, number>) => Promise<void>
  leave: () => Promise<void>
  readonly beatMs: number
}

export class CallerSlots {
  private readonly counts = new Map<string, number>()

  constructor (private readonly maxPerCaller: number) {}

  /** Takes one slot for the caller, or false when it holds its ceiling already. */
  take (callerKey: string): boolean {
    const count = this.counts.get(callerKey) ?? 0
    if (count >= this.maxPerCaller) return false
    this.counts.set(callerKey, count + 1)
    return true
  }

  release (callerKey: string): void {
    const count = (this.counts.get(callerKey) ?? 1) - 1
    if (count <= 0) this.counts.delete(callerKey)
    else this.counts.set(callerKey, count)
  }

  /** The slots held here, by caller. */
  held (): ReadonlyMap<string, number> {
    return this.counts
  }
}

/**
 * A caller's slots on every replica. While Redis is away each replica counts alone (a caller may then
 * hold up to one ceiling per replica), and rewrites its counts into Redis at the first heartbeat that
 * reaches it again; the switch is logged once each way. Without Redis it is CallerSlots.
 */
export class ClusterSlots {
  private readonly local: CallerSlots
  /** Redis does not hold this replica's counts as they are (it was away): counted here until the next beat rewrites them. */
  private alone = false
  private readonly timer: NodeJS.Timeout | undefined

  constructor (private readonly maxPerCaller: number, private readonly shared: SharedSlots | null, private readonly log: FastifyBaseLogger) {
    this.local = new CallerSlots(maxPerCaller)
    if (shared !== null) {
      this.timer = setInterval(() => { void this.beat() }, shared.beatMs)
      this.timer.unref()
      void this.beat()
    }
  }

  async take (callerKey: string): Promise<boolean> {
    if (this.shared !== null && !this.alone) {
      try {
        const taken = await this.shared.take(callerKey, this.maxPerCaller)
        if (taken) this.local.take(callerKey)
        return taken
      } catch (err) {
        this.goAlone(err)
      }
    }
    return this.local.take(callerKey)
  }

  release (callerKey: string): void {
    this.local.release(callerKey)
    if (this.shared === null || this.alone) return
    this.shared.release(callerKey).catch((err: unknown) => { this.goAlone(err) })
  }

  /** Stops renewing, and frees this replica's slots in Redis at once (a replica that dies frees them by expiry). */
  async close (): Promise<void> {
    clearInterval(this.timer)
    await this.shared?.leave().catch(() => {})
  }

  private async beat (): Promise<void> {
    if (this.shared === null) return
    try {
      const kept = await this.shared.beat()
      if (!this.alone && (kept || this.local.held().size === 0)) return
      // Counted here while Redis was away (or its hash expired meanwhile): Redis gets this replica's counts as they are.
      const wasAlone = this.alone
      this.alone = false
      await this.shared.rewrite(new Map(this.local.held()))
      if (wasAlone) this.log.info('Connection counts: counted in Redis again, across the replicas')
    } catch (err) {
      this.goAlone(err)
    }
  }

  private goAlone (err: unknown): void {
    if (this.alone) return
    this.alone = true
    // Info: the link to Redis warns of the outage once for every feature.
    this.log.info({ err: { message: err instanceof Error ? err.message : String(err) } },
      'Connection counts: Redis is unavailable; each replica counts its own connections per caller until it returns')
  }
}
