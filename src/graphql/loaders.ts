import DataLoader from 'dataloader'
import pLimit, { type LimitFunction } from 'p-limit'
import { isGatewayError } from '../errors.js'
import type { Checked } from '../upstream/checked.js'
import type { CallOptions, TaskListParams, VisualLayerClient } from '../upstream/client.js'
import type { UpstreamCreationStatus, UpstreamDataset, UpstreamEnrichmentContext, UpstreamModel, UpstreamTaskPage } from '../upstream/schemas.js'

/**
 * Per-request loaders: within one GraphQL request each upstream read happens at most once.
 * Visual Layer has no batch endpoints, so a batch becomes parallel GETs.
 */
export interface Loaders {
  /** A dataset by id; null when Visual Layer answers 404 (missing or not visible). */
  readonly dataset: DataLoader<string, Checked<UpstreamDataset> | null>
  readonly creationStatus: DataLoader<string, UpstreamCreationStatus | null>
  readonly models: DataLoader<string, Array<Checked<UpstreamModel>>>
  readonly enrichmentContext: DataLoader<string, UpstreamEnrichmentContext>
  /** A page of the task list, by its query (Query.tasks and Dataset.tasks asking the same share it). */
  readonly taskPage: DataLoader<TaskListParams, UpstreamTaskPage, string>
}

export function createLoaders (vl: VisualLayerClient, call: CallOptions, concurrency: number): Loaders {
  // One limit for the whole operation: a page of 50 tasks never opens 50 upstream calls at once.
  const limit = pLimit(concurrency)
  return {
    dataset: perKey(limit, (id) => nullIfNotFound(vl.getDataset(id, call))),
    creationStatus: perKey(limit, (id) => nullIfNotFound(vl.getCreationStatus(id, call))),
    models: perKey(limit, (id) => vl.listModels(id, call)),
    enrichmentContext: perKey(limit, (id) => vl.getEnrichmentContext(id, call)),
    taskPage: new DataLoader<TaskListParams, UpstreamTaskPage, string>(
      (pages) => Promise.all(pages.map((params) => limit(() => vl.listTasks(params, call)).catch((err: unknown) => toError(err)))),
      { cacheKeyFn: (params) => JSON.stringify(Object.entries(params).filter(([, value]) => value !== undefined).sort(([a], [b]) => a.localeCompare(b))) }
    )
  }
}

function perKey<V> (limit: LimitFunction, load: (key: string) => Promise<V>): DataLoader<string, V> {
  // Errors are returned per key, so one failed dataset does not fail its batch siblings.
  return new DataLoader<string, V>((keys) => Promise.all(keys.map((key) => limit(() => load(key)).catch((err: unknown) => toError(err)))))
}

async function nullIfNotFound<V> (pending: Promise<V>): Promise<V | null> {
  try {
    return await pending
  } catch (err) {
    if (isGatewayError(err) && err.code === 'NOT_FOUND') return null
    throw err
  }
}

function toError (err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}

/** Forgets everything the loaders hold (a subscription resolves each event afresh). */
export function clearLoaders (loaders: Loaders): void {
  loaders.dataset.clearAll()
  loaders.creationStatus.clearAll()
  loaders.models.clearAll()
  loaders.enrichmentContext.clearAll()
  loaders.taskPage.clearAll()
}
