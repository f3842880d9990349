import { GatewayError } from '../../errors.js'
import type { Checked } from '../../upstream/checked.js'
import type { Credential } from '../../upstream/client.js'
import type { UpstreamDataset, UpstreamTask } from '../../upstream/schemas.js'
import { checkId } from '../arguments.js'
import type { DomainContext } from '../context.js'
import { mapDataset } from '../mapping/dataset.js'
import { mapTask } from '../mapping/task.js'
import type { DatasetParent, TaskParent } from '../parents.js'
import type { LiveRegistry } from './registry.js'
import { FINISHED_TASK_STATUSES, SETTLED_DATASET_STATUSES } from './motion.js'
import { eventsFrom } from './transform.js'

/*
 * Live status as streams of the contract's objects: a dataset's status until it settles (or for
 * ever with `follow`), and the changes of a dataset's tasks (or of one task until it finishes).
 * Each stream rides the shared poller of its resource and scope; leaving it leaves the poller.
 */

export interface LiveContext extends DomainContext {
  readonly caller: { readonly subject: string | null, readonly credential: Credential, readonly expiresAt: number | null }
  readonly live: LiveRegistry
}

/**
 * Every subscriber of a poller is handed the same record objects; each record is mapped once, so
 * that they all get the same event object. The GraphQL door resolves the fields of one event object
 * once per credential scope and selection, and shares the result (src/graphql/shared-events.ts).
 */
const datasetEvents = new WeakMap<Checked<UpstreamDataset>, DatasetParent>()
const taskEvents = new WeakMap<Checked<UpstreamTask>, TaskParent>()

function datasetEvent (record: Checked<UpstreamDataset>, ctx: LiveContext): DatasetParent {
  let event = datasetEvents.get(record)
  if (event === undefined) datasetEvents.set(record, event = mapDataset(record, ctx.onUnknown))
  return event
}

function taskEvent (record: Checked<UpstreamTask>, ctx: LiveContext): TaskParent {
  let event = taskEvents.get(record)
  if (event === undefined) taskEvents.set(record, event = mapTask(record, ctx.onUnknown))
  return event
}

export function watchDataset (ctx: LiveContext, rawId: string, follow: boolean): AsyncIterableIterator<DatasetParent> {
  const id = checkId('datasetId', rawId)
  const source = ctx.live.dataset(ctx.scope(), id).watch(ctx.caller.credential, ctx.caller.expiresAt)
  return eventsFrom(source, (record): { events: DatasetParent[], done: boolean } => {
    // Each event is read afresh, under a call budget of its own (a long stream would otherwise spend it).
    ctx.loaders.refresh()
    ctx.loaders.rememberDataset(id, record)
    const dataset = datasetEvent(record, ctx)
    return { events: [dataset], done: !follow && SETTLED_DATASET_STATUSES.has(dataset.status) }
  })
}

/**
 * The Task fields a subscriber sees, for comparing two versions of a task: `dataset` stands for the
 * dataset's status (its record may have changed when the task list reports a new one).
 */
export type VisibleTaskFields = ReadonlySet<keyof TaskParent | 'dataset'>

/** What a subscriber can see of a task: the visible fields' values, a broken one as its error's message. */
function visibleOf (task: TaskParent, visible: VisibleTaskFields | null): string {
  const seen: Record<string, unknown> = {}
  for (const field of Object.keys(task) as Array<keyof TaskParent>) {
    if (visible !== null && !visible.has(field) && !(field === 'datasetStatus' && visible.has('dataset'))) continue
    try {
      seen[field] = task[field]
    } catch (err) {
      seen[field] = { broken: err instanceof Error ? err.message : String(err) }
    }
  }
  return JSON.stringify(seen)
}

/**
 * A dataset's task changes (or one task's, until it finishes). A task is sent again only when a
 * field in `visible` changed (all of the contract's when null): every row carries its dataset's
 * status, and a dataset's status flip alone is no news to a subscriber that does not select it.
 */
export async function watchTasks (
  ctx: LiveContext,
  rawDatasetId: string,
  rawTaskId: string | null,
  visible: VisibleTaskFields | null = null
): Promise<AsyncIterableIterator<TaskParent>> {
  const id = checkId('datasetId', rawDatasetId)
  const only = rawTaskId === null ? null : checkId('taskId', rawTaskId)
  // The task list of a dataset one may not see is just empty: ask for the dataset itself first.
  if (await ctx.loaders.dataset.load(id) === null) {
    throw new GatewayError('NOT_FOUND', `Visual Layer has no dataset ${id}, or you may not see it.`)
  }
  const source = only === null ? newestTasks(ctx, id) : oneTask(ctx, id, only)
  // The first snapshot is the baseline: with taskId its task is the first event; without, the
  // subscription reports changes from then on.
  let seen: Map<string, string> | null = null
  return eventsFrom(source, (tasks): { events: TaskParent[], done: boolean } => {
    // Each event is read afresh, under a call budget of its own (a long stream would otherwise spend it).
    ctx.loaders.refresh()
    const first = seen === null
    const previous = seen ?? new Map()
    const events = tasks.map((task) => taskEvent(task, ctx))
    const shown = events.map((task) => visibleOf(task, visible))
    seen = new Map(events.map((task, at) => [task.id, shown[at] ?? '']))
    const changed = events
      .filter((task, at) => (only === null || task.id === only) && (first ? only !== null : previous.get(task.id) !== shown[at]))
      .reverse() // oldest change first
    if (only !== null && first && changed.length === 0) {
      throw new GatewayError('NOT_FOUND', `Task ${only} is not among the ${tasks.length} most recent tasks of dataset ${id}, or you may not see it.`)
    }
    const done = only !== null && changed.some((task) => FINISHED_TASK_STATUSES.has(task.status))
    return { events: changed, done }
  })
}

type TaskSnapshots = AsyncIterator<Array<Checked<UpstreamTask>>>

function newestTasks (ctx: LiveContext, datasetId: string): TaskSnapshots {
  return ctx.live.tasks(ctx.scope(), datasetId).watch(ctx.caller.credential, ctx.caller.expiresAt)
}

/**
 * One task's snapshots: from the dataset's shared poller when its newest page holds the task, else
 * from a poller of that task alone (which ends with NOT_FOUND when it cannot find it either).
 */
function oneTask (ctx: LiveContext, datasetId: string, taskId: string): TaskSnapshots {
  let current = newestTasks(ctx, datasetId)
  let first = true
  let closed = false
  return {
    async next () {
      const next = await current.next()
      if (!first || next.done === true) return next
      first = false
      if (next.value.some((task) => task.value.task_id === taskId)) return next
      await current.return?.()
      if (closed) return { value: undefined, done: true }
      current = ctx.live.task(ctx.scope(), datasetId, taskId).watch(ctx.caller.credential, ctx.caller.expiresAt)
      return await current.next()
    },
    async return () {
      closed = true
      await current.return?.()
      return { value: undefined, done: true }
    }
  }
}
