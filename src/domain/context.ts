import type { Checked } from '../upstream/checked.js'
import type { CallOptions, TaskListParams, VisualLayerClient } from '../upstream/client.js'
import type { UpstreamCreationStatus, UpstreamDataset, UpstreamEnrichmentContext, UpstreamModel, UpstreamTaskPage } from '../upstream/schemas.js'
import type { EnrichOutcome } from './enrichment/enrich.js'
import type { IdempotencyRecords } from './enrichment/idempotency.js'
import type { UnknownValueReporter } from './mapping/values.js'

/**
 * What a domain operation needs from the door that calls it (GraphQL's doors, REST): the
 * upstream client and this operation's call options, readers of upstream records, the shared
 * idempotency records and the invalidation of what the gateway keeps after a write. The GraphQL
 * context satisfies it as it is; the domain never sees GraphQL, Fastify or DataLoader.
 */

/**
 * A read of one upstream record by key, shared within one operation. The GraphQL door backs each
 * with a per-request DataLoader (batched and de-duplicated); another door may back it with plain calls.
 */
export interface Reader<K, V> {
  load: (key: K) => Promise<V>
  /** Forget the record read for `key`: the next load reads it afresh (after a write). */
  clear: (key: K) => unknown
}

export interface DatasetReader extends Reader<string, Checked<UpstreamDataset> | null> {
  /** One result per key, in order: an Error stands for a failed read of that key only. */
  loadMany: (keys: ArrayLike<string>) => Promise<Array<Checked<UpstreamDataset> | null | Error>>
  /** Remember a record already read (from a list) so that later loads of its id cost nothing. */
  prime: (key: string, value: Checked<UpstreamDataset> | null) => unknown
}

export interface Readers {
  /** A dataset by id; null when Visual Layer answers 404 (missing or not visible). */
  readonly dataset: DatasetReader
  readonly creationStatus: Reader<string, UpstreamCreationStatus | null>
  readonly models: Reader<string, Array<Checked<UpstreamModel>>>
  readonly enrichmentContext: Reader<string, UpstreamEnrichmentContext>
  /** A page of the task list, by its query. */
  readonly taskPage: Reader<TaskListParams, UpstreamTaskPage>
  /**
   * Remember a dataset already read, as `dataset.prime` does, without making the reader before a
   * load needs it: each subscriber of a live dataset is handed every record, and most never load one.
   */
  rememberDataset: (id: string, record: Checked<UpstreamDataset>) => void
  /**
   * Tells whoever tracks what the operation read (the response cache) that it read a list of the whole
   * account, which no reader above holds (the dataset list, the task filters): any write may change it.
   */
  readAccount: () => void
  /**
   * Forget everything read so far and renew the operation's call budget: each event of a live
   * stream is read afresh, as an operation of its own.
   */
  refresh: () => void
}

export interface DomainContext {
  /** Who is calling, as far as the domain cares: the verified subject, when the gateway knows one. */
  readonly caller: { readonly subject: string | null }
  /** Credential, request id and cancellation of this operation's upstream calls. */
  readonly call: CallOptions
  readonly vl: VisualLayerClient
  readonly loaders: Readers
  /** enrichDataset's idempotency records: one store per gateway, or shared by the replicas on Redis. */
  readonly idempotency: IdempotencyRecords<EnrichOutcome>
  readonly onUnknown: UnknownValueReporter
  /** The caller's credential scope now (in passthrough it changes once Visual Layer accepts the token). */
  scope: () => string
  /** After a write: drop what the gateway keeps about these datasets and tasks for this scope. */
  invalidate: (datasetIds: readonly string[], taskIds: readonly string[]) => void
}
