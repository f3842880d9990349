import { randomInt, randomUUID } from 'node:crypto'
import { ApiError } from './api-error.js'
import type { DemoAccount } from './accounts.js'
import { datasetStateAt } from './dataset-state.js'
import { visibleDataset } from './lookups.js'
import { findModel } from './models.js'
import type { DatasetRecord, EmulatorState, TaskRecord } from './records.js'
import { isActive, taskStateAt } from './task-state.js'
import { NEW_WORK_INIT_MS, NEW_WORK_RUN_MS } from './timings.js'

/**
 * `status` of an enrichment context. Visual Layer documents only `NEW` (nothing applied); the
 * others are the emulator's choice: the copy's ENRICHMENT task is running, finished, or did not.
 */
type EnrichmentContextStatus = 'NEW' | 'IN_PROGRESS' | 'COMPLETED' | 'FAILED'

export function enrichmentContextJson (dataset: DatasetRecord, state: EmulatorState, t: number): Record<string, unknown> {
  return {
    enrichment_context_id: dataset.enrichmentContextId,
    status: contextStatus(dataset, state, t),
    dataset_enrichment_models: { enrichment_models: { ...dataset.enrichmentModels } }
  }
}

function contextStatus (dataset: DatasetRecord, state: EmulatorState, t: number): EnrichmentContextStatus {
  if (Object.keys(dataset.enrichmentModels).length === 0) return 'NEW'
  const creation = state.tasks.get(dataset.creationTaskId)
  if (creation === undefined) return 'COMPLETED'
  const creationState = taskStateAt(creation, t)
  if (isActive(creationState)) return 'IN_PROGRESS'
  return creationState.status === 'COMPLETED' ? 'COMPLETED' : 'FAILED'
}

/** Checks the requested models against the catalogue and the dataset's applied ones (400 on any problem). */
function checkModels (requested: Readonly<Record<string, string>>, applied: Readonly<Record<string, string>>): void {
  const entries = Object.entries(requested)
  if (entries.length === 0) {
    throw new ApiError(400, 'enrichment_models is empty: name at least one model as {"<enrichment type>": "<model id>"}; see list_models')
  }
  for (const [type, modelId] of entries) {
    const model = findModel(modelId)
    if (model === undefined) throw new ApiError(400, `Unknown enrichment model '${modelId}'; see list_models for the available ids`)
    if (model.type !== type) {
      throw new ApiError(400, `Model '${modelId}' is a ${model.type} model and cannot be applied as ${type}`)
    }
    if (model.status !== 'Active') {
      throw new ApiError(400, `Model '${modelId}' is ${model.status} and cannot be applied yet; choose an Active model`)
    }
    for (const dependency of model.dependencies ?? []) {
      if (!(dependency in requested) && !(dependency in applied)) {
        throw new ApiError(400, `Model '${modelId}' (${type}) depends on ${dependency}: include a ${dependency} model in this request or apply one first`)
      }
    }
  }
}

/**
 * Starts an enrichment: a new dataset copy built by an ENRICHMENT task that runs on the source
 * (which is READ ONLY meanwhile) and completes about 30 s later. Returns the copy's id.
 */
export function startEnrichment (
  state: EmulatorState,
  account: DemoAccount,
  sourceId: string,
  requested: Readonly<Record<string, string>>,
  now: number
): string {
  const source = visibleDataset(state, account, sourceId)
  checkModels(requested, source.enrichmentModels)
  const sourceStatus = datasetStateAt(source, state, now).status
  if (sourceStatus !== 'READY') {
    throw new ApiError(409, `Dataset is not READY (status: ${sourceStatus}); enrichment needs a READY dataset`)
  }

  const task: TaskRecord = {
    id: randomUUID(),
    accountKey: account.apiKey,
    datasetId: source.id,
    type: 'ENRICHMENT',
    createdBy: account.email,
    startMs: now,
    initMs: NEW_WORK_INIT_MS,
    runMs: NEW_WORK_RUN_MS,
    failure: null,
    abortedAtMs: null
  }
  const models = { ...source.enrichmentModels, ...requested }
  const detectsObjects = 'OBJECT_DETECTION' in requested && !('OBJECT_DETECTION' in source.enrichmentModels)
  const copy: DatasetRecord = {
    id: randomUUID(),
    accountKey: account.apiKey,
    displayName: `${source.displayName} (enriched)`,
    description: source.description,
    sourceType: source.sourceType,
    ownedBy: source.ownedBy,
    createdAtMs: now,
    createdAtMicros: randomInt(1000),
    createdBy: account.email,
    hidden: false,
    nImages: source.nImages,
    nVideos: source.nVideos,
    // A detector finds a few objects per image; a deterministic guess keeps tests exact.
    nObjects: detectsObjects ? Math.max(1, Math.round((source.nImages + source.nVideos * 20) * 3.7)) : source.nObjects,
    sourceDatasetId: source.id,
    creationTaskId: task.id,
    enrichmentContextId: randomUUID(),
    enrichmentModels: Object.freeze(models)
  }
  state.tasks.set(task.id, task)
  state.datasets.set(copy.id, copy)
  return copy.id
}
