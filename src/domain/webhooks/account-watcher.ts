import { channel } from 'node:diagnostics_channel'
import type { Checked } from '../../upstream/checked.js'
import type { Credential } from '../../upstream/client.js'
import type { UpstreamDataset } from '../../upstream/schemas.js'
import { sameRecords } from '../live/records.js'
import type { LiveRegistry } from '../live/registry.js'
import type { WebhookLog } from './model.js'
import { changedTasks, type DatasetChange, type TaskChange } from './watcher.js'

/*
 * What webhooks on every dataset of the account follow: the account's dataset list and its task list
 * (registry.datasetList and .accountTasks: one poller each for the service account's scope, shared with
 * the cluster and on the same adaptive interval as every poller), not each dataset. Each poll of the list
 * is compared with the one before, dataset by dataset: a dataset new to the list (created after the
 * baseline, by the gateway or anyone) is announced from its first status (`discovered`), a changed one
 * handed on as (previous, current). N datasets cost one list call a poll, not N.
 */

/** Published when a watcher takes its baseline, the first dataset list it got (tests wait for it): nothing in it is news. */
export interface AccountBaselineMessage {
  readonly owner: object
  readonly datasets: ReadonlyArray<Checked<UpstreamDataset>>
}

export const accountBaselines = channel('visual-layer:webhooks:account-baseline')

export interface AccountWatcherOptions {
  /** Who watches (the webhook service), named in the baseline's message. */
  owner: object
  live: LiveRegistry
  credential: Credential
  scope: string
  log: WebhookLog
  onDataset: (change: DatasetChange) => void
  onTasks: (changes: TaskChange[]) => void
}

export class AccountWatcher {
  private stop: (() => void) | null = null
  private closed = false

  constructor (private readonly options: AccountWatcherOptions) {}

  /** Whether the account's lists are followed now. */
  get following (): boolean {
    return this.stop !== null
  }

  /** Follows the account's lists (`on`: some enabled webhook has no dataset filter), or stops. */
  set (on: boolean): void {
    if (this.closed || on === (this.stop !== null)) return
    if (on) this.follow()
    else this.end()
  }

  close (): void {
    this.closed = true
    this.end()
  }

  private end (): void {
    this.stop?.()
    this.stop = null
  }

  private follow (): void {
    const { live, scope, credential, log } = this.options
    const datasets = live.datasetList(scope).watch(credential, null)
    const tasks = live.accountTasks(scope).watch(credential, null)
    const state = { stopped: false }
    const stop = (): void => {
      state.stopped = true
      void datasets.return?.()
      void tasks.return?.()
    }
    this.stop = stop
    const ended = (what: string) => (err: unknown): void => {
      if (state.stopped) return
      log.warn({ err }, `webhooks: the poller of the account's ${what} ended; following it again at the next sync`)
      if (this.stop === stop) this.stop = null
      stop()
    }
    void (async () => {
      let seen: Map<string, Checked<UpstreamDataset>> | null = null
      for (let next = await datasets.next(); next.done !== true && !state.stopped; next = await datasets.next()) {
        const before = seen
        seen = new Map(next.value.map((dataset) => [dataset.value.id, dataset]))
        if (before === null) {
          if (accountBaselines.hasSubscribers) accountBaselines.publish({ owner: this.options.owner, datasets: next.value } satisfies AccountBaselineMessage)
          continue
        }
        // Listed newest first: the oldest first here (a source before the copy made from it).
        for (const current of [...next.value].reverse()) {
          const datasetId = current.value.id
          const previous = before.get(datasetId) ?? null
          if (previous === null) this.options.onDataset({ datasetId, previous: null, current, discovered: true })
          else if (!sameRecords(previous, current)) this.options.onDataset({ datasetId, previous, current, discovered: false })
        }
      }
      if (!state.stopped) throw new Error('the poller ended')
    })().catch(ended('dataset list'))
    void (async () => {
      let seen: ReadonlyMap<string, unknown> | null = null
      for (let next = await tasks.next(); next.done !== true && !state.stopped; next = await tasks.next()) {
        const { changed, own } = changedTasks(seen, next.value)
        seen = own
        if (changed.length > 0) this.options.onTasks(changed.map((task) => ({ datasetId: task.value.dataset_id, task })))
      }
      if (!state.stopped) throw new Error('the poller ended')
    })().catch(ended('task list'))
  }
}
