import type { VisualLayerClient } from '../../upstream/client.js'
import type { Invalidations } from './invalidation.js'
import type { PollSharing } from './share.js'

/*
 * What the live code takes from the cluster (src/cluster/ on Redis, chosen by src/plugins/redis.ts):
 * the pollers' leases, so that one replica polls each resource and scope, and the bridge that carries
 * each replica's invalidations to the others. Without a cluster there is neither: this replica polls
 * and invalidates alone.
 */

export interface PollLeases {
  /** The registry's PollSharing. */
  readonly share: PollSharing
  /** Leases this replica holds now (a metric). */
  readonly held: number
  /** How long the last published value is kept once nobody renews it. */
  readonly stateMs: number
  /** Resolves once the releases already sent are answered (shutdown, before the link closes). */
  drain: () => Promise<void>
}

export interface InvalidationBridge {
  /** Settles once the channel is subscribed (true) or cannot be (false). */
  readonly joined: Promise<boolean>
  stop: () => void
}

/**
 * Runs shared over the cluster: of the replicas that hear one change, one claims the work it sets
 * off and publishes what came of it; the others take that. Live queries use it so that a change
 * executes a query once for the cluster, not once per replica (src/graphql/live-queries.ts).
 */
export interface RunSharing {
  /** The runs of `key` (the same on every replica): `hear` gets each outcome another replica publishes. */
  join: (key: string, hear: (change: string, outcome: string) => void) => RunShare
}

export interface RunShare {
  /** Whether this replica runs `change` (true when the cluster cannot answer: each replica then runs it). Never rejects. */
  claim: (change: string) => Promise<boolean>
  /** What running `change` came to, for the replicas that lost the claim. */
  publish: (change: string, outcome: string) => void
  /** The outcome of `change` the cluster kept, published before this replica joined or asked; null: none yet (or no cluster). Never rejects. */
  kept: (change: string) => Promise<string | null>
  leave: () => void
}

export interface LiveSharing {
  /** Whether the cluster answers now (start-up waits for the bridge only then). */
  readonly up: boolean
  readonly leases: PollLeases
  readonly runs: RunSharing
  /** Starts the bridge of `invalidations`; a dataset's write mark lasts `writtenMs`. */
  bridge: (invalidations: Invalidations, vl: VisualLayerClient, writtenMs: number) => InvalidationBridge
}
