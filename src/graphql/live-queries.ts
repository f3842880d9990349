import { channel } from 'node:diagnostics_channel'
import { generateJSONPatch } from '@n1ru4l/graphql-live-query-patch-json-patch'
import { createHash } from 'node:crypto'
import { GraphQLError, print, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql'
import type { Caller } from '../auth/index.js'
import type { RunSharing } from '../domain/live/cluster-sharing.js'
import type { Invalidations } from '../domain/live/invalidation.js'
import type { LiveRegistry } from '../domain/live/registry.js'
import { sameRecords } from '../domain/live/records.js'
import { GatewayError, isGatewayError } from '../errors.js'
import type { Checked } from '../upstream/checked.js'
import type { TaskListParams } from '../upstream/client.js'
import type { UpstreamDataset, UpstreamTask, UpstreamTaskPage } from '../upstream/schemas.js'
import type { GatewayContext } from './context.js'
import type { LoaderName } from './loaders.js'
import { changeOf, SharedRuns } from './live-runs.js'

/*
 * Live queries (`@live`, as @n1ru4l/graphql-live-query defines it): the whole result first, then each
 * new result when it changes. An execution records which upstream resources it read (the loaders tell
 * it: a dataset by id, a dataset's task pages; a dataset's creation status, models and enrichment count
 * as the dataset), and those are watched through the shared pollers (src/domain/live/registry.ts), with
 * each subscriber's own credential, as subscriptions watch them. When a poller delivers a new value, or a
 * write through the gateway invalidates a dataset read, the query is executed again, once for every
 * subscriber with the same (document, variables, operation, credential scope), its loaders primed with
 * what the pollers just fetched, under a call budget of its own; a result equal to the last is sent to
 * nobody. With several replicas, one of them executes it for the cluster and the others send its result
 * (src/graphql/live-runs.ts). A client that asked for patches (extensions.live.patch = "json-patch") gets revision 1 with the
 * data, then JSON patches its client helper (applyLiveQueryJSONPatch) applies.
 */

/**
 * Each execution of a live query once it is done, for whoever listens (a test that waits for a
 * re-execution rather than for time): `{ queries, key, again, delivered }` (LiveQueryExecuted).
 */
export const liveQueryExecutions = channel('visual-layer:live-query:executed')

export interface LiveQueryExecuted {
  /** The LiveQueries instance (one per app). */
  readonly queries: object
  /** The shared execution's key: scope, document, operation and variables. */
  readonly key: string
  /** Whether it was executed again (not the first execution), or another replica's result taken. */
  readonly again: boolean
  /** Whether the result came from another replica's execution (nothing executed here). */
  readonly shared: boolean
  /** Whether its result differed from the last and was sent. */
  readonly delivered: boolean
  /** Resources it watches now. */
  readonly watching: number
}

/** A subscriber left (or was refused, or ended): `{ queries }`, the LiveQueries instance. */
export const liveQueryLeaves = channel('visual-layer:live-query:left')

export interface LiveQuerySettings {
  /** Upstream resources one live query may watch (LIVE_QUERY_MAX_RESOURCES). */
  readonly maxResources: number
  /** Live queries one caller may hold open (LIVE_QUERIES_PER_CALLER), over every replica with Redis. */
  readonly perCaller: number
}

/** A caller's live queries counted against LIVE_QUERIES_PER_CALLER (over every replica with Redis: src/transports/caller-slots.ts). */
export interface LiveSlots {
  /** Takes one for `lane`, or false when it holds the limit already. */
  take: (lane: string) => Promise<boolean>
  release: (lane: string) => void
}

export interface LiveQueryDependencies {
  readonly live: LiveRegistry
  readonly invalidations: Invalidations
  /** Executions again shared over the cluster (src/cluster/live-runs.ts), or null: this replica executes for itself. */
  readonly runs: RunSharing | null
  /** Where live queries per caller are counted; in this process when absent. */
  readonly slots?: LiveSlots
  /** A fresh context for a re-execution: its own loaders and call budget, cancelled by `signal`. */
  readonly context: (caller: Caller, requestId: string, signal: AbortSignal) => GatewayContext
  readonly execute: (args: ExecutionArgs) => Promise<ExecutionResult>
}

/** What a door asked for a live query: whose lane it counts in, and whether its client applies patches. */
export interface LiveRequest {
  readonly lane: string
  readonly patches: boolean
}

/** The patch format clients name in `extensions.live.patch` (the only one). */
export const JSON_PATCH = 'json-patch'

/** Whether the request's extensions ask for JSON patches (`{ "live": { "patch": "json-patch" } }`). */
export function asksForPatches (extensions: unknown): boolean {
  if (typeof extensions !== 'object' || extensions === null) return false
  const live = (extensions as { live?: unknown }).live
  return typeof live === 'object' && live !== null && (live as { patch?: unknown }).patch === JSON_PATCH
}

/** A resource a live query watches: a dataset (and what hangs off it), or a dataset's task list. */
interface Resource {
  readonly kind: 'dataset' | 'tasks'
  readonly datasetId: string
}

/** What one execution read: the resources, the records it was given, and whether it read what no poller watches. */
class Reads {
  readonly resources = new Map<string, Resource>()
  /** The dataset records read, by id (the baseline a poller's first value is compared with). */
  readonly datasets = new Map<string, Checked<UpstreamDataset> | null>()
  /** The task pages read, by dataset: their query and answer. */
  readonly pages = new Map<string, Array<{ params: TaskListParams, page: UpstreamTaskPage | null }>>()
  /** A read no poller watches (a task page across datasets): refreshed on every write of the scope. */
  unwatched = false
  private readonly settling: Array<Promise<unknown>> = []

  readonly record = (loader: LoaderName, key: unknown, value: Promise<unknown>): void => {
    // The account's lists are watched through the datasets they hold (the list primes their records), not as lists.
    if (loader === 'account') return
    if (loader === 'taskPage') {
      const params = key as TaskListParams
      if (params.dataset_id === undefined) {
        this.unwatched = true
        this.settle(value)
        return
      }
      const datasetId = params.dataset_id
      this.resources.set(`tasks ${datasetId}`, { kind: 'tasks', datasetId })
      const entry: { params: TaskListParams, page: UpstreamTaskPage | null } = { params, page: null }
      let pages = this.pages.get(datasetId)
      if (pages === undefined) this.pages.set(datasetId, pages = [])
      pages.push(entry)
      this.settle(value.then((page) => { entry.page = page instanceof Error ? null : page as UpstreamTaskPage }))
      return
    }
    const datasetId = key as string
    this.resources.set(`dataset ${datasetId}`, { kind: 'dataset', datasetId })
    if (loader === 'dataset') {
      this.settle(value.then((record) => {
        if (!(record instanceof Error)) this.datasets.set(datasetId, record as Checked<UpstreamDataset> | null)
      }))
    } else {
      this.settle(value)
    }
  }

  /** Once every read recorded has settled (they have, once the execution is done; this only orders the bookkeeping). */
  async settled (): Promise<void> {
    await Promise.all(this.settling)
  }

  private settle (value: Promise<unknown>): void {
    this.settling.push(value.then(() => {}, () => {}))
  }
}

/** Tasks the dataset task poller holds (src/domain/live/registry.ts: its first page, newest first). */
const POLLED_TASKS = 50

/**
 * The task page `params` asks for, made from the poller's newest tasks when they answer it: the
 * dataset's unfiltered list by start time, newest first, within the polled tasks, which must be all
 * of them (else the total is unknown). Null when they do not.
 */
function pageFromPoll (params: TaskListParams, tasks: Array<Checked<UpstreamTask>>): UpstreamTaskPage | null {
  const { dataset_id: datasetId, sort_by: sortBy, sort_order: sortOrder, page = 1, page_size: pageSize = 20, ...filters } = params
  if (datasetId === undefined || sortBy !== 'start_time' || sortOrder !== 'desc') return null
  if (Object.values(filters).some((value) => value !== undefined)) return null
  if (tasks.length >= POLLED_TASKS) return null
  return { tasks: tasks.slice((page - 1) * pageSize, page * pageSize), total: tasks.length, page, page_size: pageSize }
}

type Polled = Checked<UpstreamDataset> | Array<Checked<UpstreamTask>>

/** One watched resource of a shared execution. */
interface Watched {
  readonly resource: Resource
  /** The last value a poller delivered (the same object to every subscriber's channel); undefined until one did. */
  value: Polled | undefined
  /** Its name over the cluster (changeOf): alike on every replica that heard it. */
  state: string | undefined
  /** Each subscriber's channel on the poller. */
  readonly channels: Map<Subscriber, AsyncIterator<Polled>>
}

/** Results for one subscriber: at most one waits unsent (a newer one replaces it, whole). */
export class LiveResults implements AsyncIterableIterator<ExecutionResult> {
  private pending: ExecutionResult | null = null
  private waiting: ((result: IteratorResult<ExecutionResult>) => void) | null = null
  private ending = false
  private closed = false

  constructor (private readonly onClose: () => void) {}

  /** Whether a result is still waiting for the client to take it. */
  get behind (): boolean {
    return this.pending !== null
  }

  push (result: ExecutionResult): void {
    if (this.closed || this.ending) return
    const waiting = this.waiting
    if (waiting !== null) {
      this.waiting = null
      waiting({ value: result, done: false })
      return
    }
    this.pending = result
  }

  /** Ends after `last` (when given) has been read. */
  end (last?: ExecutionResult): void {
    if (this.closed || this.ending) return
    if (last !== undefined) this.push(last)
    this.ending = true
    if (this.waiting !== null && this.pending === null) {
      const waiting = this.waiting
      this.waiting = null
      this.close()
      waiting({ value: undefined, done: true })
    }
  }

  async next (): Promise<IteratorResult<ExecutionResult>> {
    if (this.pending !== null) {
      const value = this.pending
      this.pending = null
      return { value, done: false }
    }
    if (this.ending || this.closed) {
      this.close()
      return { value: undefined, done: true }
    }
    return await new Promise((resolve) => { this.waiting = resolve })
  }

  async return (): Promise<IteratorResult<ExecutionResult>> {
    this.pending = null
    this.close()
    const waiting = this.waiting
    this.waiting = null
    waiting?.({ value: undefined, done: true })
    return { value: undefined, done: true }
  }

  [Symbol.asyncIterator] (): AsyncIterableIterator<ExecutionResult> {
    return this
  }

  private close (): void {
    if (this.closed) return
    this.closed = true
    this.onClose()
  }
}

export class Subscriber {
  readonly results: LiveResults
  /** The revision last sent (patches only); 0 before the first. */
  revision = 0
  /** The execution's result this subscriber holds (a patch applies to it only). */
  base: ExecutionResult | null = null
  /** Its text, to tell whether another execution's result differs (see LiveExecution.adopt). */
  baseText = ''

  constructor (readonly caller: Caller, readonly request: LiveRequest, public owner: LiveExecution) {
    this.results = new LiveResults(() => { this.owner.leave(this) })
  }

  /** `result`, whole, or as the patch from `previous` when this subscriber holds `previous` and asked for patches. */
  send (result: ExecutionResult, previous: ExecutionResult | null, patch: () => unknown, text: string): void {
    this.baseText = text
    if (!this.request.patches) {
      this.results.push(result)
      this.base = result
      return
    }
    const extra = {
      ...(result.errors === undefined ? {} : { errors: result.errors }),
      ...(result.extensions === undefined ? {} : { extensions: result.extensions })
    }
    // Revision 1 carries the data and resets what the client holds: a subscriber that fell behind starts over.
    if (this.revision === 0 || this.base === null || this.base !== previous || this.results.behind) {
      this.revision = 1
      this.results.push({ data: result.data ?? null, revision: 1, ...extra } as ExecutionResult)
    } else {
      this.revision++
      this.results.push({ patch: patch(), revision: this.revision, ...extra } as ExecutionResult)
    }
    this.base = result
  }
}

/** One live query shared by every subscriber with its (document, variables, operation, credential scope). */
class LiveExecution {
  readonly subscribers = new Set<Subscriber>()
  private readonly watched = new Map<string, Watched>()
  /** Resources whose poller ended them (gone, or no longer visible): not watched again by this execution. */
  private readonly gone = new Set<string>()
  private readonly stopping = new AbortController()
  private last: ExecutionResult | null = null
  private lastText = ''
  private reads: Reads | null = null
  private running = false
  private again: 'primed' | 'fresh' | null = null
  private readonly runs: SharedRuns
  /** What the last execution again read and sent, as other replicas take it; null when they cannot. */
  private outcome: { resources: string[], text: string } | null = null
  private executions = 0
  /** What the execution that just ended did (told once it has ended: see afterRun). */
  private ran: { again: boolean, delivered: boolean, shared: boolean } | null = null
  private readonly unlisten: () => void

  constructor (
    private readonly queries: LiveQueries,
    public key: string,
    private scope: string,
    private readonly args: ExecutionArgs
  ) {
    this.runs = new SharedRuns(queries.deps.runs)
    this.runs.joined(key)
    this.unlisten = queries.deps.invalidations.subscribe(({ scope: written, datasetIds }) => {
      if (written !== this.scope || this.reads === null) return
      if (this.reads.unwatched || datasetIds.some((id) => this.watched.has(`dataset ${id}`) || this.watched.has(`tasks ${id}`))) this.schedule('fresh')
    })
  }

  /** The first execution, in the context the pipeline prepared (its record counts its calls). */
  first (ctx: GatewayContext): void {
    this.running = true
    this.queries.busy++
    this.execute(ctx, false).catch(this.failed).finally(() => { this.afterRun() })
  }

  join (caller: Caller, request: LiveRequest): Subscriber {
    const subscriber = new Subscriber(caller, request, this)
    this.admit(subscriber)
    return subscriber
  }

  /**
   * Takes over the subscribers of `other`, which then stops: the same query in the same scope now (a
   * passthrough token's execution moves to its subject's once Visual Layer accepts it). Each gets this
   * execution's last result only if it differs from what it holds.
   */
  adopt (other: LiveExecution): void {
    for (const subscriber of [...other.subscribers]) {
      other.detach(subscriber)
      subscriber.owner = this
      this.admit(subscriber)
    }
    other.stop()
  }

  private admit (subscriber: Subscriber): void {
    this.subscribers.add(subscriber)
    if (this.last !== null && subscriber.baseText !== this.lastText) subscriber.send(this.last, null, () => null, this.lastText)
    for (const [name, watched] of this.watched) this.watch(name, watched, subscriber)
  }

  /** @internal The subscriber's results closed. */
  leave (subscriber: Subscriber): void {
    if (!this.subscribers.has(subscriber)) return
    this.detach(subscriber)
    this.queries.released(subscriber.request.lane)
    if (this.subscribers.size === 0) this.stop()
  }

  private detach (subscriber: Subscriber): void {
    this.subscribers.delete(subscriber)
    for (const watched of this.watched.values()) {
      const channel = watched.channels.get(subscriber)
      watched.channels.delete(subscriber)
      void channel?.return?.()
    }
  }

  private stop (): void {
    if (this.stopping.signal.aborted) return
    this.subscribers.clear()
    this.stopping.abort()
    this.unlisten()
    this.runs.leave()
    this.queries.ended(this)
    for (const subscriber of [...this.subscribers]) subscriber.results.end()
    for (const watched of this.watched.values()) {
      for (const channel of watched.channels.values()) void channel.return?.()
    }
    this.watched.clear()
  }

  /** A poller's value or a write says the result may have changed: executed again (once, however many said so meanwhile). */
  private schedule (how: 'primed' | 'fresh'): void {
    if (this.stopping.signal.aborted) return
    if (this.running) {
      if (this.again !== 'fresh') this.again = how
      return
    }
    this.running = true
    this.queries.busy++
    this.reexecute(how === 'fresh').catch(this.failed).finally(() => { this.afterRun() })
  }

  /** An execution that threw (graphql-js answers errors as results; this is a fault of the gateway's): every subscriber ends. */
  private readonly failed = (err: unknown): void => {
    const message = 'The live query failed inside the gateway: run it again.'
    this.endAll({ data: null, errors: [new GraphQLError(message, { originalError: err instanceof Error ? err : undefined })] })
  }

  private afterRun (): void {
    this.running = false
    this.queries.busy--
    const ran = this.ran
    this.ran = null
    const again = this.again
    this.again = null
    if (again !== null) this.schedule(again)
    if (ran !== null && liveQueryExecutions.hasSubscribers) {
      liveQueryExecutions.publish({ queries: this.queries, key: this.key, ...ran, watching: this.watched.size } satisfies LiveQueryExecuted)
    }
  }

  private async reexecute (fresh: boolean): Promise<void> {
    const caller = this.longestLived()
    if (caller === null) return
    // What the pollers brought, as it is now: the execution starts from it, and it names the execution over the
    // cluster (the replicas that hold the same values of every watched resource execute once, by the claim's winner).
    const polled = [...this.watched.values()].map(({ resource, value, state }) => ({ resource, value, state }))
    const states = polled.map(({ state }) => state)
    const run = fresh || states.some((state) => state === undefined) ? null : this.runs.nameOf(states as string[])
    if (run !== null && !await this.runs.claim(this.key, run) && await this.takeOutcome(run)) return
    if (this.stopping.signal.aborted) return
    const ctx = this.queries.deps.context(caller, `live-${this.executions + 1}`, this.stopping.signal)
    if (!fresh) this.prime(ctx, polled)
    this.outcome = null
    try {
      await this.execute(ctx, true)
    } finally {
      if (run !== null) this.runs.publish(this.key, run, this.outcome)
    }
  }

  /** The result another replica's execution of `run` sent, sent here too; false when there is none to take (then this replica executes). */
  private async takeOutcome (run: string): Promise<boolean> {
    const outcome = await this.runs.outcome(run)
    if (this.stopping.signal.aborted) return true
    if (outcome === null) return false
    const { resources, text } = outcome
    if (resources.length !== this.watched.size || resources.some((name) => !this.watched.has(name))) return false
    const delivered = this.deliver(JSON.parse(text) as ExecutionResult, text)
    this.queries.shared()
    this.ran = { again: true, delivered, shared: true }
    return true
  }

  /** What the pollers just fetched, handed to the loaders: the re-execution does not read it again. */
  private prime (ctx: GatewayContext, polled: ReadonlyArray<Pick<Watched, 'resource' | 'value'>>): void {
    for (const { resource, value } of polled) {
      if (value === undefined) continue
      if (resource.kind === 'dataset') {
        ctx.loaders.rememberDataset(resource.datasetId, value as Checked<UpstreamDataset>)
        continue
      }
      for (const { params } of this.reads?.pages.get(resource.datasetId) ?? []) {
        const page = pageFromPoll(params, value as Array<Checked<UpstreamTask>>)
        if (page !== null) ctx.loaders.taskPage.prime(params, page)
      }
    }
  }

  private async execute (ctx: GatewayContext, again: boolean): Promise<void> {
    this.executions++
    const reads = new Reads()
    ctx.loaders.track(reads.record)
    let result: ExecutionResult
    try {
      result = await this.queries.deps.execute({ ...this.args, contextValue: ctx })
    } finally {
      ctx.loaders.track(null)
    }
    await reads.settled()
    if (this.stopping.signal.aborted) return
    // A passthrough token is keyed by itself until Visual Layer accepts it, then by its subject (src/auth/scope.ts).
    const scope = ctx.scope()
    if (scope !== this.scope) {
      for (const watched of this.watched.values()) for (const channel of watched.channels.values()) void channel.return?.()
      this.watched.clear()
      this.scope = scope
      this.queries.rekey(this, scope)
      // Another execution of the query in that scope took this one's subscribers.
      if (this.stopping.signal.aborted) return
      this.runs.joined(this.key)
    }
    if (again) this.queries.reexecuted(this)
    const { maxResources } = this.queries.settings
    if (reads.resources.size > maxResources) {
      this.endAll(refusalResult('QUERY_REJECTED',
        `This live query reads ${reads.resources.size} upstream resources; one live query may watch at most ${maxResources} (LIVE_QUERY_MAX_RESOURCES). ` +
        'Ask for fewer datasets, or run the query without @live.'))
      return
    }
    this.reads = reads
    const text = JSON.stringify(result)
    const delivered = this.deliver(result, text)
    this.ran = { again, delivered, shared: false }
    // Errors are formatted by each door from what only this replica holds: another replica executes itself.
    if (again && result.errors === undefined) this.outcome = { resources: [...reads.resources.keys()], text }
    // Visual Layer refused the token it ran with: nothing to watch with it (the result says so, then it ends).
    if (refusedToken(result)) {
      for (const subscriber of [...this.subscribers]) subscriber.results.end()
      return
    }
    this.rewatch(reads)
  }

  /** Sends `result` to every subscriber unless it equals the last one sent; whether it did. */
  private deliver (result: ExecutionResult, text: string): boolean {
    if (this.last !== null && text === this.lastText) return false
    const previous = this.last
    let patch: unknown
    const patchOnce = (): unknown => (patch ??= generateJSONPatch(previous?.data ?? {}, result.data ?? {}))
    this.last = result
    this.lastText = text
    this.queries.delivered(this)
    for (const subscriber of this.subscribers) subscriber.send(result, previous, patchOnce, text)
    return true
  }

  /** Watches what the last execution read, and no longer what it did not. */
  private rewatch (reads: Reads): void {
    for (const [name, watched] of this.watched) {
      if (reads.resources.has(name)) continue
      for (const channel of watched.channels.values()) void channel.return?.()
      this.watched.delete(name)
    }
    for (const [name, resource] of reads.resources) {
      if (this.watched.has(name) || this.gone.has(name)) continue
      const watched: Watched = { resource, value: undefined, state: undefined, channels: new Map() }
      this.watched.set(name, watched)
      for (const subscriber of this.subscribers) this.watch(name, watched, subscriber)
    }
  }

  /** `subscriber` watches `watched` with its own credential: the poller polls with a token still valid. */
  private watch (name: string, watched: Watched, subscriber: Subscriber): void {
    const { live } = this.queries.deps
    const { resource } = watched
    const { credential, expiresAt } = subscriber.caller
    const poller = resource.kind === 'dataset' ? live.dataset(this.scope, resource.datasetId) : live.tasks(this.scope, resource.datasetId)
    const channel = poller.watch(credential, expiresAt) as AsyncIterator<Polled>
    watched.channels.set(subscriber, channel)
    const pump = (): void => {
      channel.next().then((next) => {
        if (next.done === true) return
        this.heard(name, watched, next.value)
        pump()
      }, (err: unknown) => { this.ended(name, watched, subscriber, err) })
    }
    pump()
  }

  /** A poller's value: the same object reaches every subscriber's channel, and counts once. */
  private heard (name: string, watched: Watched, value: Polled): void {
    if (this.watched.get(name) !== watched || watched.value === value) return
    const first = watched.value === undefined
    watched.value = value
    watched.state = changeOf(name, value)
    // A poller's first value is most often what the execution has just read.
    if (first && this.readAlready(watched.resource, value)) return
    this.schedule('primed')
  }

  private readAlready (resource: Resource, value: Polled): boolean {
    const reads = this.reads
    if (reads === null) return false
    if (resource.kind === 'dataset') {
      const read = reads.datasets.get(resource.datasetId)
      return read !== undefined && read !== null && sameRecords(read, value)
    }
    const pages = reads.pages.get(resource.datasetId) ?? []
    return pages.length > 0 && pages.every(({ params, page }) => {
      const polled = pageFromPoll(params, value as Array<Checked<UpstreamTask>>)
      return page !== null && polled !== null && sameRecords(polled, page)
    })
  }

  /** A poller ended a subscriber's watch: its token expired (that subscriber ends), or the resource is gone (executed again, not watched again). */
  private ended (name: string, watched: Watched, subscriber: Subscriber, err: unknown): void {
    if (this.watched.get(name) !== watched) return
    watched.channels.delete(subscriber)
    if (isGatewayError(err) && err.code === 'UNAUTHENTICATED') {
      subscriber.results.end(refusalResult('UNAUTHENTICATED', 'Your token expired, so this live query ended: run it again with a fresh token.'))
      return
    }
    this.gone.add(name)
    this.watched.delete(name)
    for (const channel of watched.channels.values()) void channel.return?.()
    this.schedule('fresh')
  }

  private endAll (last: ExecutionResult): void {
    for (const subscriber of [...this.subscribers]) subscriber.results.end(last)
  }

  /** The caller whose token lives longest: a re-execution runs with a credential still valid. */
  private longestLived (): Caller | null {
    const now = Date.now()
    let best: Caller | null = null
    for (const { caller } of this.subscribers) {
      if (caller.expiresAt !== null && caller.expiresAt <= now) continue
      if (best === null || (best.expiresAt !== null && (caller.expiresAt === null || caller.expiresAt > best.expiresAt))) best = caller
    }
    return best
  }
}

function refusedToken (result: ExecutionResult): boolean {
  return result.errors?.some((error) => isGatewayError(error.originalError) && error.originalError.code === 'UNAUTHENTICATED') === true
}

function refusalResult (code: GatewayError['code'], message: string): ExecutionResult {
  return { data: null, errors: [new GraphQLError(message, { originalError: new GatewayError(code, message) })] }
}

/** Counts of what live queries did, for tests and metrics. */
export interface LiveQueryCounts {
  /** Executions after the first, every shared execution together. */
  reexecutions: number
  /** Results sent on (to every subscriber of the execution), after the dedupe. */
  deliveries: number
  /** Results another replica's execution made, taken instead of executing here. */
  shared: number
}

export class LiveQueries {
  private readonly executions = new Map<string, LiveExecution>()
  private readonly documents = new WeakMap<DocumentNode, string>()
  private readonly lanes = new Map<string, number>()
  readonly counts: LiveQueryCounts = { reexecutions: 0, deliveries: 0, shared: 0 }
  /** Executions running now (each publishes on liveQueryExecutions once it has ended). */
  busy = 0

  constructor (readonly settings: LiveQuerySettings, readonly deps: LiveQueryDependencies) {}

  /** Live queries running now (shared executions), and their subscribers. */
  get size (): { executions: number, subscribers: number } {
    let subscribers = 0
    for (const execution of this.executions.values()) subscribers += execution.subscribers.size
    return { executions: this.executions.size, subscribers }
  }

  /**
   * A prepared live query: its results (the whole first, then each change), or the one result that
   * refuses it. The context is the one the pipeline prepared; the first subscriber's execution runs in it.
   */
  async start (args: ExecutionArgs, request: LiveRequest): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
    const ctx = args.contextValue as GatewayContext
    const { perCaller } = this.settings
    if (!await this.take(request.lane)) {
      return refusalResult('RATE_LIMITED',
        `Too many live queries: at most ${perCaller} per caller (LIVE_QUERIES_PER_CALLER). End one first, or run the query without @live.`)
    }
    const scope = ctx.scope()
    const key = `${scope}\n${this.documentId(args.document)}\n${JSON.stringify([args.operationName ?? null, args.variableValues ?? null])}`
    let execution = this.executions.get(key)
    const starting = execution === undefined
    if (execution === undefined) {
      execution = new LiveExecution(this, key, scope, args)
      this.executions.set(key, execution)
    }
    const subscriber = execution.join(ctx.caller, request)
    if (starting) execution.first(ctx)
    return subscriber.results
  }

  /** @internal A subscriber left: its lane counts one fewer. */
  released (lane: string): void {
    const { slots } = this.deps
    if (slots !== undefined) slots.release(lane)
    else {
      const open = (this.lanes.get(lane) ?? 1) - 1
      if (open <= 0) this.lanes.delete(lane)
      else this.lanes.set(lane, open)
    }
    if (liveQueryLeaves.hasSubscribers) liveQueryLeaves.publish({ queries: this })
  }

  private async take (lane: string): Promise<boolean> {
    const { slots } = this.deps
    if (slots !== undefined) return await slots.take(lane)
    const open = this.lanes.get(lane) ?? 0
    if (open >= this.settings.perCaller) return false
    this.lanes.set(lane, open + 1)
    return true
  }

  /** @internal The execution's scope changed: found under its new key from now on (unless another holds it). */
  rekey (execution: LiveExecution, scope: string): void {
    if (this.executions.get(execution.key) === execution) this.executions.delete(execution.key)
    execution.key = `${scope}\n${execution.key.slice(execution.key.indexOf('\n') + 1)}`
    const other = this.executions.get(execution.key)
    if (other === undefined) this.executions.set(execution.key, execution)
    else other.adopt(execution)
  }

  /** @internal */
  ended (execution: LiveExecution): void {
    if (this.executions.get(execution.key) === execution) this.executions.delete(execution.key)
  }

  /** @internal */
  reexecuted (_execution: LiveExecution): void {
    this.counts.reexecutions++
  }

  /** @internal */
  shared (): void {
    this.counts.shared++
  }

  /** @internal */
  delivered (_execution: LiveExecution): void {
    this.counts.deliveries++
  }

  /** Ends every live query (shutdown). */
  close (): void {
    for (const execution of [...this.executions.values()]) {
      for (const subscriber of [...execution.subscribers]) subscriber.results.end()
    }
  }

  /** The document's name in keys, alike on every replica: a digest of its printed text. */
  private documentId (document: DocumentNode): string {
    let id = this.documents.get(document)
    if (id === undefined) this.documents.set(document, id = createHash('sha256').update(print(document)).digest('hex').slice(0, 24))
    return id
  }
}
