import { createHash } from 'node:crypto'
import type { Checked } from '../../upstream/checked.js'
import type { UpstreamDataset, UpstreamTask } from '../../upstream/schemas.js'
import type { AnyEventType, EventType, WebhookEvent } from './model.js'
import { ownFields, type DatasetChange } from './watcher.js'

/*
 * The events a change makes (service.ts queues them), each with an id made from the resource and the
 * change alone: every replica that sees the same change, whatever it saw before it and since when it
 * watches, makes the same ids, so that each event is queued once in the cluster.
 */

const SETTLED: Record<string, EventType | undefined> = { READY: 'dataset.ready', ERROR: 'dataset.error' }

/**
 * What the ids of a dataset change's events are made from: the status it left (not the progress a
 * replica last read) and the record it reached, progress aside. A dataset's first status is its
 * announcement, whatever the status.
 */
export function changeKey (datasetId: string, before: string | null, status: string, current: Checked<UpstreamDataset>, discovered: boolean): string {
  return discovered ? `${datasetId} discovered` : `${datasetId} ${before} ${status} ${JSON.stringify({ ...current.value, progress: null })}`
}

/** dataset.status_changed, then dataset.ready or .error, then enrichment.completed for a copy; none when the status is the same. */
export function datasetEvents (
  { datasetId, previous, current, discovered }: DatasetChange, represent: (record: Checked<UpstreamDataset>) => unknown
): WebhookEvent[] {
  // The status as the REST API shows it.
  const statusOf = (record: Checked<UpstreamDataset>): string => String((represent(record) as { status?: unknown }).status)
  const before = previous === null ? null : statusOf(previous)
  const status = statusOf(current)
  if (before === status && !discovered) return []
  const dataset = represent(current)
  const key = changeKey(datasetId, before, status, current, discovered)
  const events = [event(idOf('dataset.status_changed', key), 'dataset.status_changed', { previousStatus: before, status, dataset })]
  const settled = SETTLED[status]
  if (settled !== undefined) events.push(event(idOf(settled, key), settled, { dataset }))
  if (status === 'READY' && current.value.source_dataset_id !== null) {
    events.push(event(idOf('enrichment.completed', key), 'enrichment.completed', { sourceDatasetId: current.value.source_dataset_id, dataset }))
  }
  return events
}

/** task.updated, then task.completed or .failed; the ids are made from the task's own fields. */
export function taskEvents (task: Checked<UpstreamTask>, represent: (record: Checked<UpstreamTask>) => unknown): WebhookEvent[] {
  const key = `${task.value.task_id} ${JSON.stringify(ownFields(task))}`
  const data = { task: represent(task) }
  const events = [event(idOf('task.updated', key), 'task.updated', data)]
  const status = (task.value.status ?? '').toUpperCase()
  if (status === 'COMPLETED') events.push(event(idOf('task.completed', key), 'task.completed', data))
  if (status === 'FAILED') events.push(event(idOf('task.failed', key), 'task.failed', data))
  return events
}

export function event (id: string, type: AnyEventType, data: unknown): WebhookEvent {
  return { id, type, timestamp: new Date().toISOString(), data }
}

function idOf (type: string, key: string): string {
  return `evt_${createHash('sha256').update(`${type} ${key}`).digest('hex').slice(0, 32)}`
}
