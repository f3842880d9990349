import type { CreationStatus, Model } from '../contract/types.js'
import { GatewayError } from '../errors.js'
import { failsTheOperation } from '../upstream/errors.js'
import { checkId } from './arguments.js'
import type { DomainContext } from './context.js'
import { mapCreationStatus, mapDataset } from './mapping/dataset.js'
import { mapEnrichmentContext, mapModel } from './mapping/model.js'
import type { DatasetParent, EnrichmentContextParent } from './parents.js'

/**
 * Reading datasets and what hangs off them (creation status, models, enrichment context), as the
 * contract's objects: ids are checked before any call, a dataset one may not see is null, and the
 * newest dataset comes first in the list.
 */

/** Most ids one datasetsByIds may ask for. */
const MAX_IDS = 100

/** A dataset by an id the caller gave (checked as `argument`); null when missing or not visible. */
export async function datasetById (ctx: DomainContext, argument: string, rawId: string): Promise<DatasetParent | null> {
  return await datasetOf(ctx, checkId(argument, rawId))
}

/** A dataset by an id Visual Layer gave (a source dataset, a task's dataset). */
export async function datasetOf (ctx: DomainContext, id: string): Promise<DatasetParent | null> {
  const record = await ctx.loaders.dataset.load(id)
  return record === null ? null : mapDataset(record, ctx.onUnknown)
}

/**
 * Datasets by ids, in order: null where missing or not visible, an Error where only that read
 * failed. A failure every other read would meet too (token refused, budget spent) fails the whole.
 */
export async function datasetsByIds (ctx: DomainContext, ids: readonly string[]): Promise<Array<DatasetParent | null | Error>> {
  if (ids.length > MAX_IDS) {
    throw new GatewayError('BAD_USER_INPUT', `Argument ids accepts at most ${MAX_IDS} ids; got ${ids.length}.`)
  }
  const checked = ids.map((id, index) => checkId(`ids[${index}]`, id))
  const records = await ctx.loaders.dataset.loadMany(checked)
  const fatal = records.find(failsTheOperation)
  if (fatal !== undefined) throw fatal
  return records.map((record) => {
    if (record instanceof Error) return record
    return record === null ? null : mapDataset(record, ctx.onUnknown)
  })
}

/** Every dataset the caller may see, newest first. */
export async function listDatasets (ctx: DomainContext): Promise<DatasetParent[]> {
  ctx.loaders.readAccount()
  const records = await ctx.vl.listDatasets(ctx.call)
  // Later reads (a task's dataset, a source dataset) reuse what the list already brought.
  for (const record of records) ctx.loaders.dataset.prime(record.value.id, record)
  return records
    .map((record) => mapDataset(record, ctx.onUnknown))
    .sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''))
}

export async function creationStatusOf (ctx: DomainContext, datasetId: string): Promise<CreationStatus | null> {
  const record = await ctx.loaders.creationStatus.load(datasetId)
  return record === null ? null : mapCreationStatus(record, ctx.onUnknown)
}

export async function modelsOf (ctx: DomainContext, datasetId: string, onlyActive: boolean): Promise<Model[]> {
  const models = (await ctx.loaders.models.load(datasetId)).map((model) => mapModel(model, ctx.onUnknown))
  return onlyActive ? models.filter((model) => model.isActive) : models
}

/** One model of a dataset's list, by its id; null when the list no longer has it. */
export async function modelOf (ctx: DomainContext, datasetId: string, modelId: string): Promise<Model | null> {
  const models = await ctx.loaders.models.load(datasetId)
  const model = models.find((candidate) => candidate.value.id === modelId)
  return model === undefined ? null : mapModel(model, ctx.onUnknown)
}

export async function enrichmentOf (ctx: DomainContext, datasetId: string): Promise<EnrichmentContextParent> {
  return mapEnrichmentContext(datasetId, await ctx.loaders.enrichmentContext.load(datasetId))
}
