import DataLoader from 'dataloader'
import pLimit from 'p-limit'
import type { Readers } from '../domain/context.js'
import { isGatewayError, type GatewayError } from '../errors.js'
import type { Checked } from '../upstream/checked.js'
import type { CallOptions, TaskListParams, VisualLayerClient } from '../upstream/client.js'
import { failsTheOperation } from '../upstream/errors.js'
import type { UpstreamCreationStatus, UpstreamDataset, UpstreamEnrichmentContext, UpstreamModel, UpstreamTaskPage } from '../upstream/schemas.js'

/**
 * Per-request loaders: within one GraphQL request each upstream read happens at most once.
 * Visual Layer has no batch endpoints, so a batch becomes parallel GETs. They are the GraphQL
 * door's implementation of the domain's readers.
 */
export interface Loaders extends Readers {
  /** A dataset by id; null when Visual Layer answers 404 (missing or not visible). */
  readonly dataset: DataLoader<string, Checked<UpstreamDataset> | null>
  readonly creationStatus: DataLoader<string, UpstreamCreationStatus | null>
  readonly models: DataLoader<string, Array<Checked<UpstreamModel>>>
  readonly enrichmentContext: DataLoader<string, UpstreamEnrichmentContext>
  /** A page of the task list, by its query (Query.tasks and Dataset.tasks asking the same share it). */
  readonly taskPage: DataLoader<TaskListParams, UpstreamTaskPage, string>
  /** Set once a load met an error every later load would meet (token refused, call budget spent). */
  readonly halt: { error: GatewayError | null }
}

export function createLoaders (vl: VisualLayerClient, call: CallOptions, concurrency: number): Loaders {
  // One limit for the whole operation: a page of 50 tasks never opens 50 upstream calls at once.
  const limit = pLimit(concurrency)
  const halt: Loaders['halt'] = { error: null }
  // Once halted, the remaining loads fail with that same error at no cost: a document of thousands
  // of ids must not make thousands of errors, each as dear to build as a call.
  const run = <V>(load: () => Promise<V>): Promise<V | Error> => limit(async () => {
    if (halt.error !== null) throw halt.error
    return await load()
  }).catch((err: unknown) => {
    if (failsTheOperation(err)) halt.error ??= err
    return toError(err)
  })
  return {
    dataset: perKey(run, (id) => nullIfNotFound(vl.getDataset(id, call))),
    creationStatus: perKey(run, (id) => nullIfNotFound(vl.getCreationStatus(id, call))),
    models: perKey(run, (id) => vl.listModels(id, call)),
    enrichmentContext: perKey(run, (id) => vl.getEnrichmentContext(id, call)),
    taskPage: new DataLoader<TaskListParams, UpstreamTaskPage, string>(
      (pages) => Promise.all(pages.map((params) => run(() => vl.listTasks(params, call)))),
      { cacheKeyFn: (params) => JSON.stringify(Object.entries(params).filter(([, value]) => value !== undefined).sort(([a], [b]) => a.localeCompare(b))) }
    ),
    halt
  }
}

type Runner = <V>(load: () => Promise<V>) => Promise<V | Error>

function perKey<V> (run: Runner, load: (key: string) => Promise<V>): DataLoader<string, V> {
  // Errors are returned per key, so one failed dataset does not fail its batch siblings.
  return new DataLoader<string, V>((keys) => Promise.all(keys.map((key) => run(() => load(key)))))
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
  loaders.halt.error = null
}
