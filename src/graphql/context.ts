import type { MercuriusContext } from 'mercurius'
import type { Caller } from '../auth/index.js'
import type { LiveRegistry } from '../domain/live/registry.js'
import type { CallOptions, VisualLayerClient } from '../upstream/client.js'
import type { Loaders } from './loaders.js'
import type { EnrichOutcome } from '../domain/enrichment/enrich.js'
import type { IdempotencyStore } from '../domain/enrichment/idempotency.js'
import type { UnknownValueReporter } from '../domain/mapping/values.js'

/** What every resolver receives, built once per GraphQL request. */
export interface GatewayContext {
  readonly caller: Caller
  readonly requestId: string
  /** Credential, request id and cancellation of this request's upstream calls. */
  readonly call: CallOptions
  readonly vl: VisualLayerClient
  readonly loaders: Loaders
  /** enrichDataset's idempotency records, one store per gateway. */
  readonly idempotency: IdempotencyStore<EnrichOutcome>
  /** The pollers behind subscriptions. */
  readonly live: LiveRegistry
  readonly onUnknown: UnknownValueReporter
  /** The caller's credential scope now (in passthrough it changes once Visual Layer accepts the token). */
  scope: () => string
  /** After a write: drop what the gateway keeps about these datasets and tasks for this scope. */
  invalidate: (datasetIds: readonly string[], taskIds: readonly string[]) => void
}

export type GraphQLContext = MercuriusContext & GatewayContext
