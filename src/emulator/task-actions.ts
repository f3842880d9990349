import { ApiError } from './api-error.js'
import type { DemoAccount } from './accounts.js'
import { visibleTask } from './lookups.js'
import type { EmulatorState, TaskRecord } from './records.js'
import { taskStateAt } from './task-state.js'
import { COMMIT_PHASE_PROGRESS, NEW_WORK_INIT_MS, NEW_WORK_RUN_MS } from './timings.js'

/**
 * Abort: only an unfinished DATASET_CREATION before its commit phase (409 otherwise). The task
 * becomes ABORTED now, with its progress frozen; its dataset turns ERROR.
 */
export function abortTask (state: EmulatorState, account: DemoAccount, taskId: string, now: number): TaskRecord {
  const task = visibleTask(state, account, taskId)
  if (task.type !== 'DATASET_CREATION') {
    throw new ApiError(409, `Only DATASET_CREATION tasks can be aborted; this task is ${task.type}`)
  }
  const current = taskStateAt(task, now)
  if (current.status === 'COMPLETED' || current.status === 'FAILED' || current.status === 'ABORTED') {
    throw new ApiError(409, `Task is already ${current.status} and cannot be aborted`)
  }
  if (current.status === 'RUNNING' && (current.progress ?? 0) >= COMMIT_PHASE_PROGRESS) {
    throw new ApiError(409, `Task is in its final commit phase (progress ${current.progress}%) and can no longer be aborted`)
  }
  task.abortedAtMs = now
  return task
}

/**
 * Retry: only a FAILED or ABORTED DATASET_CREATION (400 otherwise). The same task restarts now,
 * INITIALIZING then RUNNING, and this time runs to COMPLETED.
 */
export function retryTask (state: EmulatorState, account: DemoAccount, taskId: string, now: number): TaskRecord {
  const task = visibleTask(state, account, taskId)
  if (task.type !== 'DATASET_CREATION') {
    throw new ApiError(400, `Only DATASET_CREATION tasks can be retried; this task is ${task.type}`)
  }
  const current = taskStateAt(task, now)
  if (current.status !== 'FAILED' && current.status !== 'ABORTED') {
    throw new ApiError(400, `Only FAILED or ABORTED tasks can be retried; this task is ${current.status}`)
  }
  task.startMs = now
  task.initMs = NEW_WORK_INIT_MS
  task.runMs = NEW_WORK_RUN_MS
  task.failure = null
  task.abortedAtMs = null
  return task
}
