import type { MercuriusContext } from 'mercurius'
import type { Caller } from '../auth/index.js'
import type { CallOptions, VisualLayerClient } from '../upstream/client.js'
import type { Loaders } from './loaders.js'
import type { UnknownValueReporter } from './mapping/values.js'

/** What every resolver receives, built once per GraphQL request. */
export interface GatewayContext {
  readonly caller: Caller
  readonly requestId: string
  /** Credential, request id and cancellation of this request's upstream calls. */
  readonly call: CallOptions
  readonly vl: VisualLayerClient
  readonly loaders: Loaders
  readonly onUnknown: UnknownValueReporter
}

export type GraphQLContext = MercuriusContext & GatewayContext
