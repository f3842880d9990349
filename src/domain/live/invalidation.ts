/*
 * After a write, everything the gateway keeps about the datasets and tasks it touched, for the
 * writer's credential scope, must be dropped or refreshed: coalesced reads in flight (the upstream
 * client), and the last values pollers compared (live subscriptions listen here and poll at once).
 */

export interface Invalidation {
  readonly scope: string
  readonly datasetIds: readonly string[]
  readonly taskIds: readonly string[]
  /** Published by another replica (src/cluster/invalidations.ts): not to be sent back to the cluster. */
  readonly remote?: boolean
}

export type InvalidationListener = (invalidation: Invalidation) => void

export class Invalidations {
  private readonly listeners = new Set<InvalidationListener>()

  publish (invalidation: Invalidation): void {
    for (const listener of this.listeners) listener(invalidation)
  }

  /** Returns the function that stops listening. */
  subscribe (listener: InvalidationListener): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }
}
