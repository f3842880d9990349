import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql'
import type { GatewayContext } from './context.js'
import { isGatewayError } from '../errors.js'

/*
 * One event, resolved once. graphql's `subscribe` executes the selection of every subscriber for
 * every event, so 100 subscribers of one dataset made 100 reads of each nested field per change.
 * Here the subscribers of one poller receive the same event object (src/domain/live/watch.ts), and
 * the result of executing a selection over it is kept on that object: a subscriber in the same
 * credential scope that asked for the same document, variables and operation gets that result
 * instead of executing it again. Every upstream call a subscription makes waits its turn under the
 * poll ceiling (src/upstream/layers/pace.ts), as its poller's polls do.
 *
 * A result is shared only when it is nobody's in particular: one made while its subscriber was
 * leaving (its calls were cancelled) or whose token Visual Layer refused is kept by that subscriber
 * alone, and the others execute the selection themselves. A kept result is reused for at most
 * `freshForMs` (the poll interval): a late subscriber handed the poller's last value reads nested
 * fields afresh rather than as they were when that value came.
 */

interface Settled { readonly result: ExecutionResult, readonly shareable: boolean }

interface Shared {
  readonly at: number
  readonly result: Promise<Settled>
  /** The result once there is one: later subscribers take it without waiting a turn. */
  settled: Settled | null
}

/** The results kept on one event object: by document, then by scope, variables and operation. */
type Kept = Map<DocumentNode, Map<string, Shared>>

export class SharedEvents {
  private readonly kept = new WeakMap<object, Kept>()

  constructor (private readonly freshForMs: number, private readonly now: () => number = () => performance.now()) {}

  /** graphql's `subscribe`, with each event's result shared as described above. */
  async subscribe (args: ExecutionArgs): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult> {
    const ctx = args.contextValue as GatewayContext
    // The subscription's own calls (a check when it starts, the nested fields of its events) are paced,
    // sharing the ceiling between callers as polls do.
    ctx.call.pace ??= async (signal) => { await ctx.live.turn(signal, ctx.scope()) }
    const source = await createSourceEventStream(args)
    if (!isAsyncIterable(source)) return source
    const selection = JSON.stringify([args.operationName ?? null, args.variableValues ?? null])
    return new EventResults(source[Symbol.asyncIterator](), this, args, ctx, selection)
  }

  /**
   * The result of `args`' selection over `payload` for this subscriber. The path taken by all but
   * one subscriber of a change (a settled result of the same key) allocates nothing but the promise.
   */
  resolve (subscriber: EventResults, payload: unknown): Promise<ExecutionResult> {
    if (typeof payload !== 'object' || payload === null) return execute({ ...subscriber.args, rootValue: payload }) as Promise<ExecutionResult>
    let byDocument = this.kept.get(payload)
    if (byDocument === undefined) this.kept.set(payload, byDocument = new Map())
    let byKey = byDocument.get(subscriber.args.document)
    if (byKey === undefined) byDocument.set(subscriber.args.document, byKey = new Map())
    const key = subscriber.key()
    const existing = byKey.get(key)
    if (existing?.settled?.shareable === true && this.now() - existing.at <= this.freshForMs) return Promise.resolve(existing.settled.result)
    return this.resolveSlowly(subscriber, payload, byKey, key)
  }

  private async resolveSlowly (subscriber: EventResults, payload: object, byKey: Map<string, Shared>, key: string): Promise<ExecutionResult> {
    const { args, ctx } = subscriber
    for (;;) {
      const now = this.now()
      const existing = byKey.get(key)
      if (existing !== undefined && now - existing.at <= this.freshForMs) {
        const shared = await existing.result
        if (shared.shareable) return shared.result
        // Nobody's to share: the first waiter to get here executes it for the others.
        if (byKey.get(key) === existing) byKey.delete(key)
        continue
      }
      const entry: Shared = {
        at: now,
        settled: null,
        result: Promise.resolve(execute({ ...args, rootValue: payload })).then((result) => {
          entry.settled = { result, shareable: ctx.call.signal?.aborted !== true && !personal(result) }
          return entry.settled
        })
      }
      byKey.set(key, entry)
      const { result, shareable } = await entry.result
      if (!shareable && byKey.get(key) === entry) byKey.delete(key)
      return result
    }
  }
}

/** An error about the credential of the subscriber that executed (its token refused or expired), not about the event. */
function personal (result: ExecutionResult): boolean {
  return result.errors?.some((error) => isGatewayError(error.originalError) && error.originalError.code === 'UNAUTHENTICATED') === true
}

const DONE: IteratorResult<ExecutionResult> = Object.freeze({ value: undefined, done: true })

/**
 * The source's events mapped to results, one at a time, as graphql's `subscribe` maps them: an error
 * from the mapping returns the source, and `return()` reaches the source at once. A class, not an
 * async function, so that a quiet subscription holds one pending reaction, not a suspended frame.
 */
class EventResults implements AsyncGenerator<ExecutionResult> {
  /** The last key and the scope it was made for: made again only when the scope changes (passthrough). */
  private scope: string | null = null
  private keyed = ''

  constructor (
    private readonly source: AsyncIterator<unknown>,
    private readonly events: SharedEvents,
    readonly args: ExecutionArgs,
    readonly ctx: GatewayContext,
    private readonly selection: string
  ) {}

  /** What results are shared by, besides the event and the document: the scope, then the operation name and variables. */
  key (): string {
    const scope = this.ctx.scope()
    if (scope !== this.scope) {
      this.scope = scope
      this.keyed = `${scope}\n${this.selection}`
    }
    return this.keyed
  }

  next (): Promise<IteratorResult<ExecutionResult>> {
    return this.source.next().then((next) => {
      if (next.done === true) return DONE
      return this.events.resolve(this, next.value).then(
        (value) => ({ value, done: false }),
        async (err: unknown) => {
          await this.source.return?.()
          throw err
        }
      )
    })
  }

  async return (): Promise<IteratorResult<ExecutionResult>> {
    await this.source.return?.()
    return DONE
  }

  async throw (err: unknown): Promise<IteratorResult<ExecutionResult>> {
    await this.source.return?.()
    throw err
  }

  [Symbol.asyncIterator] (): AsyncGenerator<ExecutionResult> {
    return this
  }
}

function isAsyncIterable (value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value
}
