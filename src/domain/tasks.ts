import type { Checked } from '../upstream/checked.js'
import type { UpstreamTask } from '../upstream/schemas.js'
import { checkId } from './arguments.js'
import type { DomainContext } from './context.js'
import { mapTask } from './mapping/task.js'
import type { TaskParent } from './parents.js'
import { classifyWriteFailure, rewrap, unknownOutcomeError } from './write-errors.js'

/*
 * Aborting and retrying a task (Mutation.abortTask and Mutation.retryTask): one POST each, never
 * retried. Visual Layer decides whether the task may be aborted or retried (its refusal says the
 * task's state or type); the gateway turns its answer into the task, mapped like every Task, or
 * into an error that says why and what to look at.
 */

type Action = 'abort' | 'retry'

/** When the action is allowed, for the message of a refusal (Visual Layer's own says which part failed). */
const RULE: Record<Action, string> = {
  abort: 'Abort works only on a DATASET_CREATION task that is INITIALIZING, or RUNNING before its final commit phase; Task.canAbort tells in advance.',
  retry: 'Retry works only on a DATASET_CREATION task that FAILED or was ABORTED; Task.canRetry tells in advance.'
}

export async function taskAction (action: Action, rawId: string, ctx: DomainContext): Promise<TaskParent> {
  const taskId = checkId('taskId', rawId)
  // A write is not abandoned when its caller goes away: it ends on its own deadline.
  const call = { ...ctx.call, signal: undefined }
  let record: Checked<UpstreamTask>
  try {
    record = action === 'abort' ? await ctx.vl.abortTask(taskId, call) : await ctx.vl.retryTask(taskId, call)
  } catch (err) {
    throw taskFailure(action, taskId, err, ctx)
  }
  const task = mapTask(record, ctx.onUnknown)
  ctx.invalidate([task.datasetId], [taskId])
  // Task.dataset shows the dataset as the write left it (ERROR after an abort, DRAFT after a retry).
  ctx.loaders.dataset.clear(task.datasetId)
  return task
}

function taskFailure (action: Action, taskId: string, err: unknown, ctx: DomainContext): unknown {
  const failure = classifyWriteFailure(err)
  const verb = action === 'abort' ? 'aborted' : 'retried'
  const check = 'Check the task\'s status in the task list (Query.tasks, or Dataset.tasks of its dataset) before trying again.'
  switch (failure.kind) {
    case 'refused': {
      const said = failure.detail === null ? '.' : `; Visual Layer says: ${failure.detail}.`
      if (failure.status === 404) return rewrap(failure.error, 'NOT_FOUND', `Task ${taskId} does not exist, or you may not see it.`)
      if (failure.status === 409) return rewrap(failure.error, 'CONFLICT', `Task ${taskId} cannot be ${verb} now${said} ${RULE[action]}`)
      if (failure.status === 400 || failure.status === 422) {
        return rewrap(failure.error, 'BAD_USER_INPUT', `Task ${taskId} cannot be ${verb}${said} ${RULE[action]}`)
      }
      return failure.error
    }
    case 'unknown':
      ctx.invalidate([], [taskId])
      return unknownOutcomeError(
        failure,
        `Visual Layer ${failure.what} while the gateway asked it to ${action} task ${taskId}, so whether the task was ${verb} is unknown. ${check}`
      )
    case 'unreadable':
      ctx.invalidate([], [taskId])
      return rewrap(
        failure.error,
        'UPSTREAM_CONTRACT',
        `Visual Layer accepted the ${action} of task ${taskId}, but its answer broke the documented contract (this is logged for the operators). ${check}`
      )
    default:
      return err
  }
}
