import { GatewayError } from '../../errors.js'
import type { Checked } from '../../upstream/checked.js'
import type { UpstreamDataset } from '../../upstream/schemas.js'
import { checkId, MAX_MODELS, TEXT_LIMITS } from '../arguments.js'
import type { EnrichmentModelInput, MutationEnrichDatasetArgs } from '../../contract/types.js'
import type { DomainContext } from '../context.js'
import { mapDataset } from '../mapping/dataset.js'
import type { DatasetParent } from '../parents.js'
import { checkModels, duplicateTypes, missingDependencies, problemsMessage } from './preflight.js'
import { classifyWriteFailure, rewrap, unknownOutcomeError } from '../write-errors.js'

/*
 * Enrichment of a dataset (Mutation.enrichDataset): pre-flight from the dataset, its model list
 * and its enrichment context (a request Visual Layer would refuse is refused here, with every
 * problem at once, and costs no write), then one POST, never retried. An idempotency key makes
 * repeats and concurrent duplicates share the first call's result.
 */

/**
 * The idempotency key was used with another request: BAD_USER_INPUT in GraphQL; a door with its
 * own status for this (REST's 422, as the IETF Idempotency-Key draft says) can tell it apart.
 */
export class IdempotencyKeyReused extends GatewayError {}

export interface EnrichOutcome {
  readonly enrichedDatasetId: string
  readonly sourceDatasetId: string
}

/** The contract's EnrichDatasetPayload; each dataset is read only when asked for. */
export interface EnrichPayload {
  readonly enrichedDatasetId: string
  readonly enrichedDataset: Promise<DatasetParent | null>
  readonly sourceDataset: Promise<DatasetParent | null>
}

export async function enrichDataset (args: MutationEnrichDatasetArgs, ctx: DomainContext): Promise<EnrichPayload> {
  const { models } = args
  const key = args.idempotencyKey ?? null
  const local: string[] = []
  // Until it is checked, the id is only quoted, and never at length.
  let datasetId = args.datasetId.length > 80 ? `${args.datasetId.slice(0, 80)}...` : args.datasetId
  try {
    datasetId = checkId('datasetId', args.datasetId)
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err
    local.push(err.message)
  }
  if (key !== null && (key.length === 0 || key.length > TEXT_LIMITS.idempotencyKey)) {
    local.push(`Argument idempotencyKey must be 1 to ${TEXT_LIMITS.idempotencyKey} characters long; got ${key.length}.`)
  }
  if (models.length === 0) {
    local.push('Argument models is empty: name at least one model as {type, modelId}; Dataset.models lists the ones that can be applied.')
  }
  if (models.length > MAX_MODELS) {
    local.push(`Argument models names ${models.length} models; at most ${MAX_MODELS} can be applied at once.`)
  }
  const oversized = models.slice(0, MAX_MODELS).flatMap((model, index) => [
    ...(model.type.length > TEXT_LIMITS.enrichmentType
      ? [`models[${index}].type must be at most ${TEXT_LIMITS.enrichmentType} characters long; got ${model.type.length}.`]
      : []),
    ...(model.modelId.length > TEXT_LIMITS.modelId
      ? [`models[${index}].modelId must be at most ${TEXT_LIMITS.modelId} characters long; got ${model.modelId.length}.`]
      : [])
  ])
  local.push(...oversized)
  if (local.length > 0) {
    const duplicates = oversized.length > 0 || models.length > MAX_MODELS ? [] : duplicateTypes(models)
    throw new GatewayError('BAD_USER_INPUT', problemsMessage(datasetId, [...local, ...duplicates]))
  }

  // The dataset first: in passthrough mode Visual Layer's answer proves the caller's token, so the
  // scope of the idempotency record below is the same for every request of this caller.
  const source = await ctx.loaders.dataset.load(datasetId)
  if (source === null) {
    throw new GatewayError('NOT_FOUND', `Dataset ${datasetId} does not exist, or you may not see it; nothing was sent to Visual Layer.`)
  }

  let outcome: EnrichOutcome
  if (key === null) {
    outcome = await attempt(datasetId, source, models, ctx, null)
  } else {
    const claim = await ctx.idempotency.claim(recordScope(ctx), key, canonicalRequest(datasetId, models))
    if (claim.kind === 'mismatch') {
      throw new IdempotencyKeyReused(
        'BAD_USER_INPUT',
        `Argument idempotencyKey ${JSON.stringify(key.slice(0, 80))} was already used for another enrichment request (another dataset or other models); use a new key for a new request. Nothing was sent to Visual Layer.`
      )
    }
    if (claim.kind === 'replay') {
      // Answered even though the source is no longer READY: the first call's result is the answer.
      outcome = await claim.result
    } else {
      try {
        outcome = await attempt(datasetId, source, models, ctx, key)
      } catch (err) {
        claim.fail(err)
        throw err
      }
      await claim.succeed(outcome, [recordScope(ctx)])
    }
  }
  return payload(outcome, ctx)
}

/** The remaining pre-flight, then the write. */
async function attempt (
  datasetId: string,
  source: Checked<UpstreamDataset>,
  models: readonly EnrichmentModelInput[],
  ctx: DomainContext,
  key: string | null
): Promise<EnrichOutcome> {
  const status = mapDataset(source, ctx.onUnknown).status
  if (status !== 'READY') {
    throw new GatewayError(
      'CONFLICT',
      `Dataset ${datasetId} is ${status}, and only a READY dataset can be enriched; nothing was sent to Visual Layer. Wait until it is READY (subscribe to datasetStatusChanged) and try again.`
    )
  }

  const check = checkModels(models, await ctx.loaders.models.load(datasetId), ctx.onUnknown)
  const problems = [...duplicateTypes(models), ...check.problems]
  if (check.unmet.length > 0) {
    const context = await ctx.loaders.enrichmentContext.load(datasetId)
    problems.push(...missingDependencies(check.unmet, context.dataset_enrichment_models.enrichment_models))
  }
  if (problems.length > 0) throw new GatewayError('BAD_USER_INPUT', problemsMessage(datasetId, problems))

  const request = Object.fromEntries(models.map((model) => [model.type, model.modelId]))
  try {
    // A write is not abandoned when its caller goes away: it ends on its own deadline, so that an
    // idempotency record knows its outcome.
    const answer = await ctx.vl.enrichDataset(datasetId, request, { ...ctx.call, signal: undefined })
    ctx.invalidate([datasetId, answer.dataset_id], [])
    return { enrichedDatasetId: answer.dataset_id, sourceDatasetId: datasetId }
  } catch (err) {
    throw enrichFailure(err, datasetId, key, ctx)
  }
}

function enrichFailure (err: unknown, datasetId: string, key: string | null, ctx: DomainContext): unknown {
  const failure = classifyWriteFailure(err)
  const check = `Check the source dataset's enrichment tasks before trying again: { dataset(id: "${datasetId}") { status tasks(filter: {type: ENRICHMENT}) { nodes { id status startTime } } } } lists a task started just now if the enrichment is under way.`
  const unrecorded = key === null ? '' : ' The idempotencyKey was not recorded, so a retry with it sends a new enrichment request.'
  switch (failure.kind) {
    case 'refused': {
      const said = failure.detail === null ? '.' : `; Visual Layer says: ${failure.detail}.`
      if (failure.status === 409) {
        return rewrap(
          failure.error,
          'CONFLICT',
          `Dataset ${datasetId} cannot be enriched in its current state${said} Enrichment needs a READY dataset: check its status and try again when it is READY.`
        )
      }
      if (failure.status === 400 || failure.status === 422) {
        return rewrap(
          failure.error,
          'BAD_USER_INPUT',
          `Visual Layer refused the enrichment request for dataset ${datasetId}${said} Dataset.models and Dataset.enrichment show what can be applied.`
        )
      }
      if (failure.status === 404) return rewrap(failure.error, 'NOT_FOUND', `Dataset ${datasetId} does not exist, or you may not see it.`)
      return failure.error
    }
    case 'unknown':
      ctx.invalidate([datasetId], [])
      return unknownOutcomeError(
        failure,
        `Visual Layer ${failure.what} while starting the enrichment of dataset ${datasetId}, so whether an enriched copy is being built is unknown. ${check}${unrecorded}`
      )
    case 'unreadable':
      ctx.invalidate([datasetId], [])
      return rewrap(
        failure.error,
        'UPSTREAM_CONTRACT',
        `Visual Layer accepted the enrichment of dataset ${datasetId} but did not say which dataset holds the copy (its answer broke the documented contract; this is logged for the operators). ${check}${unrecorded}`
      )
    default:
      return failure.error
  }
}

/**
 * The payload's datasets are read after the write, not from this request's earlier loads: the
 * source shows READ_ONLY and the copy its first status. Each is fetched only when selected.
 */
function payload (outcome: EnrichOutcome, ctx: DomainContext): EnrichPayload {
  ctx.loaders.dataset.clear(outcome.sourceDatasetId)
  ctx.loaders.dataset.clear(outcome.enrichedDatasetId)
  return {
    enrichedDatasetId: outcome.enrichedDatasetId,
    get enrichedDataset () { return fresh(outcome.enrichedDatasetId, ctx) },
    get sourceDataset () { return fresh(outcome.sourceDatasetId, ctx) }
  }
}

async function fresh (id: string, ctx: DomainContext): Promise<DatasetParent | null> {
  const record = await ctx.loaders.dataset.load(id)
  return record === null ? null : mapDataset(record, ctx.onUnknown)
}

/**
 * Idempotency records are kept per credential scope, and per verified caller where the gateway
 * knows one (jwt mode: every caller shares the service account's scope, not their keys).
 */
function recordScope (ctx: DomainContext): string {
  return ctx.caller.subject === null ? ctx.scope() : `${ctx.scope()} caller:${ctx.caller.subject}`
}

/** The arguments that make two requests the same enrichment: the dataset and the type-to-model map. */
function canonicalRequest (datasetId: string, models: readonly EnrichmentModelInput[]): string {
  const pairs = models.map((model) => [model.type, model.modelId] as const).sort((a, b) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]))
  return JSON.stringify([datasetId, pairs])
}
