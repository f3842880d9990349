import type { Checked } from '../../upstream/checked.js'
import type { CallOptions, Credential, VisualLayerClient } from '../../upstream/client.js'
import type { UpstreamDataset, UpstreamTask } from '../../upstream/schemas.js'
import { pollerStops, pollRounds, type PollerStoppedMessage, type PollRoundMessage } from './events.js'
import type { Invalidations } from './invalidation.js'
import { Poller, type PollOutcome, type WarnLog } from './poller.js'
import { PollScheduler } from './scheduler.js'
import type { PollSharing } from './share.js'
import { datasetInMotion, tasksInMotion } from './motion.js'
import { sameRecords } from './records.js'
import { TaskLookup } from './task-lookup.js'
import type { LiveTime } from './time.js'

/*
 * The poller registry behind subscriptions: one poller per (resource, credential scope), however
 * many clients watch it. Writes (through the invalidation bus) make the matching pollers poll at once.
 * A settled resource is polled less and less often (poller.ts); a change of one resource of a dataset,
 * polled here or heard from another replica, brings every other poller of that dataset (whatever its
 * scope) back to the fast interval. With `sharing` (several replicas on Redis) that holds for the
 * whole cluster: see share.ts.
 */

export interface LiveOptions {
  vl: VisualLayerClient
  invalidations: Invalidations
  /** The fast interval: a resource in motion is polled this often. */
  intervalMs: number
  /** The longest interval of a settled resource (each calm poll doubles it up to this); `intervalMs` when absent. */
  maxIntervalMs?: number
  maxPollsPerSecond: number
  log: WarnLog
  /** The credential scope of a credential now (passthrough tokens move to their subject once proven). */
  scopeOf?: (credential: Credential) => string
  /** Told of every poll, by the kind of resource polled (metrics). */
  onPoll?: (resource: Kind, outcome: PollOutcome) => void
  /** Shares each poller with the other replicas' (one of them polls); absent, every poller polls. */
  sharing?: PollSharing
  /** The clock and timers of the pollers and the poll ceiling; the process's own by default. */
  time?: LiveTime
}

const NEVER = new AbortController().signal

/** The task list of one dataset, as subscriptions watch it: its first page, newest first. */
const WATCHED_TASK_PAGE = 50
/** The pseudo dataset id of the account's lists (the dataset list, the account's task list): hurried together. */
export const ACCOUNT = '*'

export class LiveRegistry {
  private readonly pollers = new Map<string, Poller<unknown>>()
  /** The running pollers of each dataset, every kind and scope: hurried together. */
  private readonly byDataset = new Map<string, Set<Poller<unknown>>>()
  private readonly scheduler: PollScheduler
  private readonly unsubscribe: () => void
  /** Told of each change a poller sees (not its first value), with the dataset it belongs to (ACCOUNT for the account's lists). */
  private readonly changeListeners = new Set<(datasetId: string) => void>()

  constructor (private readonly options: LiveOptions) {
    this.scheduler = new PollScheduler(options.maxPollsPerSecond, options.time)
    this.unsubscribe = options.invalidations.subscribe(({ scope, datasetIds }) => {
      for (const id of datasetIds) {
        this.pollers.get(key('dataset', scope, id))?.wake()
        this.pollers.get(key('tasks', scope, id))?.wake()
        for (const [name, poller] of this.pollers) if (name.startsWith(key('task', scope, `${id} `))) poller.wake()
      }
      // A write to any dataset may add one (an enrichment's copy) or start a task: the account's lists too.
      if (datasetIds.length > 0) {
        this.pollers.get(key('datasets', scope, ACCOUNT))?.wake()
        this.pollers.get(key('account-tasks', scope, ACCOUNT))?.wake()
      }
    })
  }

  dataset (scope: string, datasetId: string): Poller<Checked<UpstreamDataset>> {
    return this.poller('dataset', scope, datasetId, datasetId, datasetInMotion, async (credential, signal) =>
      await this.options.vl.getDataset(datasetId, call(credential, signal, datasetId)))
  }

  tasks (scope: string, datasetId: string): Poller<Array<Checked<UpstreamTask>>> {
    return this.poller('tasks', scope, datasetId, datasetId, tasksInMotion, async (credential, signal) => {
      const page = await this.options.vl.listTasks(
        { dataset_id: datasetId, sort_by: 'start_time', sort_order: 'desc', page: 1, page_size: WATCHED_TASK_PAGE },
        call(credential, signal, datasetId)
      )
      return page.tasks
    })
  }

  /** Every dataset the scope's credential can see (GET /api/v1/datasets: one call, no pagination). */
  datasetList (scope: string): Poller<Array<Checked<UpstreamDataset>>> {
    return this.poller('datasets', scope, ACCOUNT, ACCOUNT, (list) => list.some(datasetInMotion), async (credential, signal) =>
      await this.options.vl.listDatasets(call(credential, signal, ACCOUNT)))
  }

  /** The newest tasks of every dataset the scope can see (GET /api/v1/tasks without dataset_id): the first page, newest first. */
  accountTasks (scope: string): Poller<Array<Checked<UpstreamTask>>> {
    return this.poller('account-tasks', scope, ACCOUNT, ACCOUNT, tasksInMotion, async (credential, signal) => {
      const page = await this.options.vl.listTasks(
        { sort_by: 'start_time', sort_order: 'desc', page: 1, page_size: WATCHED_TASK_PAGE },
        call(credential, signal, ACCOUNT)
      )
      return page.tasks
    })
  }

  /** One task of a dataset, found beyond its newest page (see TaskLookup): its own poller, one GET a poll. */
  task (scope: string, datasetId: string, taskId: string): Poller<Array<Checked<UpstreamTask>>> {
    const lookup = new TaskLookup(this.options.vl, datasetId, taskId)
    return this.poller('task', scope, `${datasetId} ${taskId}`, datasetId, tasksInMotion, async (credential, signal) =>
      await lookup.fetch(call(credential, signal, datasetId)))
  }

  /**
   * Waits for a turn under the poll ceiling, as a poll does: the other upstream calls a subscription
   * makes (the nested fields of its events) are counted against the same ceiling as its polls, in
   * the share of the caller's credential scope.
   */
  async turn (signal: AbortSignal | undefined, scope = ''): Promise<void> {
    await this.scheduler.turn(signal ?? NEVER, scope)
  }

  /** Turns granted under the poll ceiling so far: every poll, and every other call subscriptions made. */
  get turnsGranted (): number {
    return this.scheduler.granted
  }

  /** Calls `listener` with the dataset of each change a poller sees, polled here or heard from another replica; returns the function that stops it. */
  onChange (listener: (datasetId: string) => void): () => void {
    this.changeListeners.add(listener)
    return () => { this.changeListeners.delete(listener) }
  }

  /** Pollers running now, all resources and scopes together. */
  get size (): number {
    return this.pollers.size
  }

  close (): void {
    this.unsubscribe()
    for (const poller of [...this.pollers.values()]) poller.stop()
    this.scheduler.close()
  }

  /** `id` is the dataset's id, then for a task a space and the task's. */
  private poller<T> (
    kind: Kind, scope: string, id: string, datasetId: string,
    moving: (value: T) => boolean,
    fetch: (credential: Credential, signal: AbortSignal) => Promise<T>
  ): Poller<T> {
    let current = scope
    let name = key(kind, current, id)
    const existing = this.pollers.get(name) as Poller<T> | undefined
    if (existing !== undefined && !existing.stopped) return existing
    const poller: Poller<T> = new Poller<T>({
      key: name,
      fetch,
      same: sameRecords,
      intervalMs: this.options.intervalMs,
      maxIntervalMs: this.options.maxIntervalMs ?? this.options.intervalMs,
      moving,
      maxBackoffMs: Math.max(30_000, this.options.intervalMs),
      scheduler: this.scheduler,
      scope: () => current,
      log: this.options.log,
      onStop: () => {
        if (this.pollers.get(name) === poller) this.pollers.delete(name)
        const siblings = this.byDataset.get(datasetId)
        siblings?.delete(poller as Poller<unknown>)
        if (siblings?.size === 0) this.byDataset.delete(datasetId)
        if (pollerStops.hasSubscribers) pollerStops.publish({ registry: this, key: name, datasetId } satisfies PollerStoppedMessage)
      },
      onPoll: (outcome) => { this.options.onPoll?.(kind, outcome) },
      onChange: () => {
        this.hurry(datasetId, poller as Poller<unknown>)
        for (const listener of this.changeListeners) listener(datasetId)
      },
      onRound: (outcome, nextInMs) => {
        if (pollRounds.hasSubscribers) pollRounds.publish({ registry: this, key: name, datasetId, outcome, nextInMs } satisfies PollRoundMessage)
      },
      ...(this.options.time === undefined ? {} : { time: this.options.time }),
      ...(this.options.sharing === undefined ? {} : { sharing: this.options.sharing }),
      datasetId,
      // A passthrough token's poller is keyed by the token until Visual Layer accepts it, then by its
      // subject (scope.ts): it moves there, or hands its subscribers to the subject's poller.
      onPolled: (credential) => {
        const now = this.options.scopeOf?.(credential) ?? current
        if (now === current) return
        if (this.pollers.get(name) === poller) this.pollers.delete(name)
        current = now
        name = key(kind, current, id)
        const other = this.pollers.get(name) as Poller<T> | undefined
        if (other !== undefined && !other.stopped) {
          other.adopt(poller)
        } else {
          this.pollers.set(name, poller as Poller<unknown>)
          poller.moveShare(name)
        }
      }
    })
    this.pollers.set(name, poller as Poller<unknown>)
    let siblings = this.byDataset.get(datasetId)
    if (siblings === undefined) this.byDataset.set(datasetId, siblings = new Set())
    siblings.add(poller as Poller<unknown>)
    return poller
  }

  /** A resource of dataset `datasetId` changed: its other pollers go back to the fast interval. */
  private hurry (datasetId: string, changed: Poller<unknown>): void {
    for (const poller of this.byDataset.get(datasetId) ?? []) if (poller !== changed) poller.hurry()
  }
}

export type Kind = 'dataset' | 'tasks' | 'task' | 'datasets' | 'account-tasks'

function key (kind: Kind, scope: string, id: string): string {
  return `${kind} ${scope} ${id}`
}

function call (credential: Credential, signal: AbortSignal, datasetId: string): CallOptions {
  return { credential, signal, requestId: `poll-${datasetId === ACCOUNT ? 'account' : datasetId}` }
}
