import { GatewayError } from '../../errors.js'
import { eventsFrom } from '../../domain/live/transform.js'
import type { Checked } from '../../upstream/checked.js'
import type { UpstreamTask } from '../../upstream/schemas.js'
import { checkId } from '../../domain/arguments.js'
import type { GraphQLContext } from '../context.js'
import type { SubscriptionResolvers } from '../generated/resolvers.js'
import { clearLoaders } from '../loaders.js'
import { mapDataset } from '../../domain/mapping/dataset.js'
import { mapTask } from '../../domain/mapping/task.js'
import type { DatasetParent, TaskParent } from '../../domain/parents.js'
import { sameRecords } from '../../domain/live/registry.js'

const SETTLED = new Set(['READY', 'ERROR'])
const FINISHED = new Set(['COMPLETED', 'FAILED', 'ABORTED'])

/**
 * Each event is resolved afresh: nested fields must not reuse what an earlier event loaded, and get
 * the call budget of an operation of their own (a long subscription would otherwise spend it).
 */
function freshLoaders (ctx: GraphQLContext): void {
  clearLoaders(ctx.loaders)
  ctx.call.budget?.renew()
}

export const Subscription: SubscriptionResolvers = {
  datasetStatusChanged: {
    subscribe: (_root, { datasetId, follow }, ctx) => {
      const id = checkId('datasetId', datasetId)
      const source = ctx.live.dataset(ctx.scope(), id).watch(ctx.caller.credential, ctx.caller.expiresAt)
      return eventsFrom(source, (record): { events: DatasetParent[], done: boolean } => {
        freshLoaders(ctx)
        ctx.loaders.dataset.prime(id, record)
        const dataset = mapDataset(record, ctx.onUnknown)
        return { events: [dataset], done: !follow && SETTLED.has(dataset.status) }
      })
    },
    resolve: (payload: DatasetParent) => payload
  },

  taskUpdated: {
    subscribe: async (_root, { datasetId, taskId }, ctx) => {
      const id = checkId('datasetId', datasetId)
      const only = taskId == null ? null : checkId('taskId', taskId)
      // The task list of a dataset one may not see is just empty: ask for the dataset itself first.
      if (await ctx.loaders.dataset.load(id) === null) {
        throw new GatewayError('NOT_FOUND', `Visual Layer has no dataset ${id}, or you may not see it.`)
      }
      const source = ctx.live.tasks(ctx.scope(), id).watch(ctx.caller.credential, ctx.caller.expiresAt)
      // The first snapshot is the baseline: with taskId its task is the first event; without, the
      // subscription reports changes from then on.
      let seen: Map<string, Checked<UpstreamTask>> | null = null
      return eventsFrom(source, (tasks): { events: TaskParent[], done: boolean } => {
        freshLoaders(ctx)
        const first = seen === null
        const previous = seen ?? new Map()
        seen = new Map(tasks.map((task) => [task.value.task_id, task]))
        const changed = tasks
          .filter((task) => (only === null || task.value.task_id === only))
          .filter((task) => (first ? only !== null : !sameRecords(previous.get(task.value.task_id), task)))
          .reverse() // oldest change first
          .map((task) => mapTask(task, ctx.onUnknown))
        if (only !== null && first && changed.length === 0) {
          throw new GatewayError('NOT_FOUND', `Task ${only} is not among the ${tasks.length} most recent tasks of dataset ${id}, or you may not see it.`)
        }
        const done = only !== null && changed.some((task) => FINISHED.has(task.status))
        return { events: changed, done }
      })
    },
    resolve: (payload: TaskParent) => payload
  }
}
