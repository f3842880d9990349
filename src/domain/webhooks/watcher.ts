import type { Checked } from '../../upstream/checked.js'
import type { Credential } from '../../upstream/client.js'
import type { UpstreamDataset, UpstreamTask } from '../../upstream/schemas.js'
import type { Invalidations } from '../live/invalidation.js'
import type { LiveRegistry } from '../live/registry.js'
import { sameRecords } from '../live/records.js'
import type { WebhookLog } from './model.js'

/*
 * The datasets webhooks follow, watched through the shared pollers (registry.dataset and .tasks, the
 * same pollers subscriptions ride, under the service account's credential scope), their changes handed
 * on as (previous, current) pairs. The enriched copies of a followed dataset are found from the
 * invalidations the enrichment published (on every replica with Redis), and followed too.
 */

export interface DatasetChange {
  readonly datasetId: string
  readonly previous: Checked<UpstreamDataset> | null
  readonly current: Checked<UpstreamDataset>
  /** The first snapshot of a copy found after an enrichment (a new dataset, announced once). */
  readonly discovered: boolean
}

export interface TaskChange {
  readonly datasetId: string
  readonly task: Checked<UpstreamTask>
}

export interface WatcherOptions {
  live: LiveRegistry
  invalidations: Invalidations
  /** The service account, and its credential scope. */
  credential: Credential
  scope: string
  log: WebhookLog
  onDataset: (change: DatasetChange) => void
  onTasks: (changes: TaskChange[]) => void
  /** A copy of `sourceId` was found: the service adds it to the webhooks that follow the source. */
  onCopy: (copyId: string, sourceId: string) => void
}

interface Followed {
  stop: () => void
}

/**
 * A task's own fields: the task list also carries its dataset's name and status, which change with the
 * dataset (an enrichment makes it READ_ONLY) and are no change of the task.
 */
export function ownFields (task: Checked<UpstreamTask>): unknown {
  const { dataset_status: _status, dataset_name: _name, ...own } = task.value
  return { value: own, broken: [...task.broken.keys()].filter((key) => key !== 'dataset_status' && key !== 'dataset_name').sort() }
}

/**
 * The tasks of `list` (newest first) that are new or changed since `before` (each task's own fields by
 * id; null for the first list, a baseline: none), oldest first; and the own fields of `list`, to compare the next with.
 */
export function changedTasks (
  before: ReadonlyMap<string, unknown> | null, list: ReadonlyArray<Checked<UpstreamTask>>
): { changed: Array<Checked<UpstreamTask>>, own: Map<string, unknown> } {
  const own = new Map(list.map((task) => [task.value.task_id, ownFields(task)]))
  if (before === null) return { changed: [], own }
  const changed = list.filter((task) => {
    const old = before.get(task.value.task_id)
    return old === undefined || !sameRecords(old, own.get(task.value.task_id))
  }).reverse()
  return { changed, own }
}

export class DatasetWatcher {
  private readonly followed = new Map<string, Followed>()
  /** Dataset ids webhooks follow, as last synced. */
  private wanted = new Set<string>()
  private readonly unsubscribe: () => void
  private closed = false

  constructor (private readonly options: WatcherOptions) {
    this.unsubscribe = options.invalidations.subscribe(({ scope, datasetIds }) => {
      if (scope !== options.scope || datasetIds.length < 2) return
      // An enrichment invalidates its source and its new copy together.
      const source = datasetIds.find((id) => this.wanted.has(id))
      if (source === undefined) return
      for (const id of datasetIds) if (!this.wanted.has(id)) this.probe(id, source)
    })
  }

  get size (): number {
    return this.followed.size
  }

  /** Follows exactly these datasets (with `discovered`: copies whose first snapshot is news). */
  sync (datasetIds: ReadonlySet<string>): void {
    if (this.closed) return
    this.wanted = new Set(datasetIds)
    for (const [id, followed] of this.followed) {
      if (!datasetIds.has(id)) {
        followed.stop()
        this.followed.delete(id)
      }
    }
    for (const id of datasetIds) if (!this.followed.has(id)) this.follow(id, false)
  }

  close (): void {
    this.closed = true
    this.unsubscribe()
    for (const followed of this.followed.values()) followed.stop()
    this.followed.clear()
  }

  /** A dataset named with a followed one by an invalidation: followed when it is a copy made from it. */
  private probe (id: string, source: string): void {
    const { live, scope, credential } = this.options
    const snapshots = live.dataset(scope, id).watch(credential, null)
    void snapshots.next().then(async (first) => {
      await snapshots.return?.()
      if (first.done === true || this.closed) return
      if (first.value.value.source_dataset_id !== source) return
      this.wanted.add(id)
      this.options.onCopy(id, source)
      if (!this.followed.has(id)) this.follow(id, true)
    }, (err: unknown) => {
      this.options.log.warn({ err, datasetId: id }, 'webhooks: could not read a dataset named by an enrichment')
    })
  }

  private follow (id: string, discovered: boolean): void {
    const { live, scope, credential, log } = this.options
    const datasets = live.dataset(scope, id).watch(credential, null)
    const tasks = live.tasks(scope, id).watch(credential, null)
    const state = { stopped: false }
    const stop = (): void => {
      state.stopped = true
      void datasets.return?.()
      void tasks.return?.()
    }
    this.followed.set(id, { stop })
    const ended = (what: string) => (err: unknown): void => {
      if (state.stopped) return
      log.warn({ err, datasetId: id }, `webhooks: the ${what} of a followed dataset ended; following it again at the next sync`)
      if (this.followed.get(id)?.stop === stop) this.followed.delete(id)
      stop()
    }
    void (async () => {
      let previous: Checked<UpstreamDataset> | null = null
      let first = true
      for (let next = await datasets.next(); next.done !== true && !state.stopped; next = await datasets.next()) {
        const current = next.value
        if (!first || discovered) this.options.onDataset({ datasetId: id, previous, current, discovered: first && discovered })
        previous = current
        first = false
      }
      if (!state.stopped) throw new Error('the poller ended')
    })().catch(ended('status'))
    void (async () => {
      let seen: ReadonlyMap<string, unknown> | null = null
      for (let next = await tasks.next(); next.done !== true && !state.stopped; next = await tasks.next()) {
        const { changed, own } = changedTasks(seen, next.value)
        seen = own
        if (changed.length > 0) this.options.onTasks(changed.map((task) => ({ datasetId: id, task })))
      }
      if (!state.stopped) throw new Error('the poller ended')
    })().catch(ended('task list'))
  }
}
