import { datasetNotFound, taskNotFound } from './api-error.js'
import type { DemoAccount } from './accounts.js'
import type { DatasetRecord, EmulatorState, TaskRecord } from './records.js'

/**
 * Each account sees only its own datasets and tasks. A foreign record answers exactly like a
 * missing one (Visual Layer makes no 403/404 distinction), so ids cannot be probed.
 */
export function visibleDataset (state: EmulatorState, account: DemoAccount, id: string): DatasetRecord {
  const dataset = state.datasets.get(id)
  if (dataset === undefined || dataset.accountKey !== account.apiKey) throw datasetNotFound()
  return dataset
}

export function visibleTask (state: EmulatorState, account: DemoAccount, id: string): TaskRecord {
  const task = state.tasks.get(id)
  if (task === undefined || task.accountKey !== account.apiKey) throw taskNotFound()
  return task
}

export function tasksOf (state: EmulatorState, account: DemoAccount): TaskRecord[] {
  return [...state.tasks.values()].filter((task) => task.accountKey === account.apiKey)
}

export function datasetsOf (state: EmulatorState, account: DemoAccount): DatasetRecord[] {
  return [...state.datasets.values()].filter((dataset) => dataset.accountKey === account.apiKey)
}
