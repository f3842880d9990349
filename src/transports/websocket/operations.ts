import type { FastifyBaseLogger } from 'fastify'
import { GraphQLError, type ExecutionArgs, type ExecutionResult } from 'graphql'
import { CloseCode, type Context, type ServerOptions } from 'graphql-ws'
import type { Caller } from '../../auth/index.js'
import type { WsLimits } from '../../config.js'
import type { GatewayContext } from '../../graphql/context.js'
import type { OperationParams, OperationPipeline, OperationRun } from '../../graphql/pipeline/pipeline.js'
import { endAtExpiry, Expiry } from '../expiry.js'
import { TokenBucket } from '../token-bucket.js'
import type { Slot } from './admission.js'
import { closeReason } from './close-reason.js'
import { FramedResults } from './shared-frames.js'
import type { SocketExtra } from './ws-adapter.js'

/*
 * graphql-ws' operation hooks on the pipeline (src/graphql/pipeline): a subscribe message becomes a
 * prepared operation (or its refusal), its results and errors are formatted and recorded, and its
 * record ends with its complete message, its error or its socket. What is the socket's own is here:
 * the length of operation ids, the rate of starts, the subscriptions a connection may hold, the
 * caller's token expiring (checked at each start, and ending subscriptions when it passes).
 */

/** What the door keeps on graphql-ws' per-connection `extra`, set in onConnect. */
export interface Extra extends Record<PropertyKey, unknown> {
  connectionId: string
  caller: Caller
  /** Set once the connection counts against a limit (see admission.ts). */
  slot?: Slot
  /** Aborted when the connection closes: upstream calls made for it stop. */
  closed: AbortSignal
  /** Operations (subscribe messages) the connection may start now: WS_SUBSCRIBE_BURST, then WS_SUBSCRIBES_PER_SECOND. */
  starts?: TokenBucket
  /** Whether a start was refused already (logged once per connection). */
  startsRefused?: boolean
}

type ConnectionExtra = SocketExtra & Partial<Extra>
type WsContext = Context<Record<string, unknown>, ConnectionExtra>
type Hooks = Pick<ServerOptions<Record<string, unknown>, ConnectionExtra>,
'onSubscribe' | 'onOperation' | 'onNext' | 'onError' | 'onComplete' | 'execute' | 'subscribe'>

export interface OperationSettings {
  limits: WsLimits
  maxSubscriptionsPerConnection: number
  now: () => number
}

export class SocketOperations {
  /** Each operation in flight, by `connectionId:id`. */
  private readonly runs = new Map<string, OperationRun>()
  private readonly expiries = new WeakMap<Caller, Expiry>()

  constructor (private readonly pipeline: OperationPipeline, private readonly settings: OperationSettings, private readonly log: FastifyBaseLogger) {}

  /** A connection opened: its rate of starts. */
  opened (extra: Partial<Extra>): void {
    const { limits, now } = this.settings
    extra.starts = new TokenBucket(limits.subscribeBurst, limits.subscribesPerSecond, now)
  }

  /** graphql-ws completes a connection's operations after an abrupt close; one refused while the client was already gone is not: its record ends here. */
  closed (connectionId: string): void {
    for (const [key, run] of this.runs) {
      if (!key.startsWith(`${connectionId}:`)) continue
      run.finish()
      this.runs.delete(key)
    }
  }

  readonly hooks: Hooks = {
    onSubscribe: async (ctx, id, payload) => await this.subscribeMessage(ctx, id, payload as OperationParams),
    // A live query's results end at expiry as a subscription's do.
    execute: async (args: ExecutionArgs) => this.expiring(await this.pipeline.execute(args), args),
    subscribe: async (args: ExecutionArgs) => this.expiring(await this.pipeline.subscribe(args), args),
    // A stream's results without errors are written by the door, each serialised once for all its subscribers (shared-frames.ts).
    onOperation: (ctx, id, _payload, _args, result) => Symbol.asyncIterator in result
      ? new FramedResults(result[Symbol.asyncIterator](), id, ctx.extra.writer)
      : undefined,
    // Results with errors: formatted with the operation's request id and record.
    onNext: (ctx, id, _payload, _args, result) => result.errors === undefined ? undefined : this.format(ctx, id, result),
    onError: (ctx, id, _payload, errors) => {
      const requestId = this.requestIdOf(ctx, id)
      const run = this.runs.get(requestId)
      const formatted = run === undefined ? this.pipeline.formatErrors(errors, requestId, this.log) : run.formatErrors(errors)
      this.finish(requestId)
      return formatted as never
    },
    onComplete: (ctx, id) => { this.finish(this.requestIdOf(ctx, id)) }
  }

  private async subscribeMessage (ctx: WsContext, id: string, payload: OperationParams): Promise<ExecutionArgs | readonly GraphQLError[]> {
    const { limits, maxSubscriptionsPerConnection } = this.settings
    const { extra } = ctx
    // Before anything is kept or logged under the id: ids come back in every message and log line.
    if (id.length > limits.maxOperationIdLength) {
      this.log.info({ connectionId: extra.connectionId, maxOperationIdLength: limits.maxOperationIdLength }, 'WebSocket closed: an operation id too long')
      extra.socket.close(CloseCode.BadRequest, closeReason(`Operation id too long: at most ${limits.maxOperationIdLength} characters.`))
      // Not sent: the socket is closing.
      return [new GraphQLError('Operation id too long')]
    }
    // Each start costs a document read, a cost check, an operation record and maybe a poller: a
    // connection starting thousands a second stalled the event loop. Past the bound, that one
    // operation is refused and the connection and its other subscriptions go on (a client library
    // shows it as that operation's error; a close would make it resubscribe everything at once).
    const starts = extra.starts
    if (starts !== undefined && !starts.take()) {
      if (extra.startsRefused !== true) {
        extra.startsRefused = true
        this.log.info({ connectionId: extra.connectionId, subscribesPerSecond: limits.subscribesPerSecond, subscribeBurst: limits.subscribeBurst },
          'WebSocket operations refused: too many started on this connection')
      }
      return this.pipeline.refusal('RATE_LIMITED',
        `Too many operations started on this connection: at most ${limits.subscribesPerSecond} a second, after a burst of ${limits.subscribeBurst}. ` +
        `Try again in ${Math.max(1, Math.ceil(starts.waitMs() / 1000))} s.`)
    }
    const requestId = this.requestIdOf(ctx, id)
    // The connection's logger: the operation's line names its requestId itself (a child logger per
    // subscription would only repeat it, and live as long as the subscription).
    const run = this.pipeline.start({ transport: 'websocket', requestId, log: this.log, logNamesRequest: false })
    this.runs.set(requestId, run)
    const { caller, closed, slot } = extra
    if (caller === undefined || closed === undefined) throw new Error('operation before connection_init was accepted')
    // The token was checked at connection_init; an operation sent after it expired is refused.
    if (caller.expiresAt !== null && caller.expiresAt <= Date.now()) {
      return this.pipeline.refusal('UNAUTHENTICATED', 'Your token has expired: reconnect with a fresh token.')
    }
    if (Object.keys(ctx.subscriptions).length > maxSubscriptionsPerConnection) {
      return this.pipeline.refusal('RATE_LIMITED',
        `Too many subscriptions on this connection: at most ${maxSubscriptionsPerConnection}. Complete one first, or open another connection.`)
    }
    // A trusted document's id (`documentId`, or extensions.persistedQuery, beside a "query" of "" as
    // graphql-ws requires a string) names its text. The slot's key is the caller's lane, across its
    // sockets: a document not read before waits for its turn (src/graphql/read-turns.ts), and its
    // queries and mutations count against its allowance.
    const prepared = await run.prepare({ caller, params: payload, signal: closed, lane: slot?.key ?? 'unknown', live: true })
    return prepared.errors ?? prepared.args
  }

  /** Results that end with UNAUTHENTICATED when the caller's token expires. */
  private expiring<R extends ExecutionResult | AsyncIterable<ExecutionResult>> (result: R, args: ExecutionArgs): R | AsyncIterableIterator<ExecutionResult> {
    const caller = (args.contextValue as GatewayContext).caller
    if (!(Symbol.asyncIterator in result) || caller.expiresAt === null) return result
    // The caller is the connection's: its subscriptions and live queries share one expiry timer.
    let expiry = this.expiries.get(caller)
    if (expiry === undefined) this.expiries.set(caller, expiry = new Expiry(caller.expiresAt))
    return endAtExpiry(result[Symbol.asyncIterator](), expiry)
  }

  private format (ctx: WsContext, id: string, result: ExecutionResult): ExecutionResult | undefined {
    const requestId = this.requestIdOf(ctx, id)
    const run = this.runs.get(requestId)
    return run === undefined ? this.pipeline.format(result, requestId, this.log) : run.format(result)
  }

  private requestIdOf (ctx: WsContext, id: string): string {
    return `${ctx.extra.connectionId ?? 'ws'}:${id}`
  }

  private finish (requestId: string): void {
    this.runs.get(requestId)?.finish()
    this.runs.delete(requestId)
  }
}
