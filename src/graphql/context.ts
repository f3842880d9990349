import type { Context as TraceContext } from '@opentelemetry/api'
import type { Caller } from '../auth/index.js'
import type { DomainContext } from '../domain/context.js'
import type { LiveRegistry } from '../domain/live/registry.js'
import type { Loaders } from './loaders.js'

/**
 * What every resolver receives, built once per GraphQL request: the domain's context (so that
 * resolvers hand it to domain operations as it is), the caller and the pollers behind subscriptions.
 */
export interface GatewayContext extends DomainContext {
  readonly caller: Caller
  readonly requestId: string
  readonly loaders: Loaders
  /** The pollers behind subscriptions. */
  readonly live: LiveRegistry
  /**
   * The operation's trace context, set by the door when tracing is on: resolvers that call Visual
   * Layer open their spans under it (see traced.ts). Unset: no span, no cost.
   */
  traceContext?: () => TraceContext | undefined
}

/** What resolvers are typed with (codegen's contextType). */
export type GraphQLContext = GatewayContext
