/*
 * How the pollers of several replicas share one resource (docs/deployment.md, "One poller for the cluster"). A poller with
 * a share asks it before each poll whether this replica polls: it does when it holds the cluster's
 * lease on its resource and credential scope (and then hands the share every value it polled, which
 * publishes the changes), or when the cluster cannot be reached (each replica then polls for itself).
 * Otherwise another replica polls, and the share hands this poller each change that replica publishes.
 * The holder's interval is the one that counts (it slows down while the resource is settled); a
 * change another replica sees reaches it through `hurry`.
 * Without a share (no REDIS_URL) a poller always polls, as a single gateway does. The implementation
 * on Redis is src/cluster/live-leases.ts.
 */

/** Before a poll: poll now, or hear another replica's polls and ask again in `retryInMs`. */
export type Round = { readonly poll: true } | { readonly poll: false, readonly retryInMs: number }

export interface PollShare<T> {
  /** Never rejects: when the cluster cannot answer, the poller polls for itself. */
  round: () => Promise<Round>
  /**
   * After each poll of a round that said poll (`value` null when it failed), before sleeping `nextInMs`:
   * a value that differs from the cluster's last is published, and the lease is kept until the next poll.
   * `startedAt` (on the poller's LiveTime) is when the poll's request began: what it shows is the state from then.
   */
  polled: (value: T | null, nextInMs: number, startedAt: number) => Promise<void>
  /** The poller stopped: the lease is released (another replica takes over at once) and nothing more is heard. */
  leave: () => void
  /**
   * The resource may move (a change seen elsewhere): when another replica holds the lease, it is told
   * to poll at the fast interval again (its listener's `hurry`). Never rejects.
   */
  hurry: () => void
}

/** What a share tells its poller. */
export interface ShareListener<T> {
  /** A value another replica polled (or the cluster's last when known fresh, on joining): delivered only if it differs from the poller's last. */
  hear: (value: T) => void
  /** The lease was released: ask for it now rather than at the next round. */
  wake: () => void
  /** Another replica saw a change elsewhere that says the resource may move: poll at the fast interval again. */
  hurry: () => void
}

/**
 * Makes the share of one poller; `key` names its resource and credential scope, alike on every
 * replica; `datasetId` is the dataset the resource belongs to (writes to it make shared states stale).
 */
export type PollSharing = <T>(key: string, listener: ShareListener<T>, datasetId: string) => PollShare<T>
