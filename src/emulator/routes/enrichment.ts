import type { ValidationItem } from '../api-error.js'
import { validationFailed } from '../api-error.js'
import { enrichmentContextJson, startEnrichment } from '../enrichment.js'
import { parseJsonBody } from '../json-body.js'
import { visibleDataset } from '../lookups.js'
import { ENRICHMENT_MODELS } from '../models.js'
import { RequestValidator } from '../request-validation.js'
import { callerAndPathId, type RouteContext, type RouteSpec } from '../route-context.js'

type DatasetParams = { dataset_id: string }

/** Validates `{"enrichment_models": {TYPE: model_id}}` as FastAPI would, returning the map or recording items. */
function readEnrichmentModels (body: unknown, errors: ValidationItem[]): Record<string, string> {
  if (body === undefined) {
    errors.push({ type: 'missing', loc: ['body', 'enrichment_models'], msg: 'Field required', input: null })
    return {}
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    errors.push({ type: 'model_attributes_type', loc: ['body'], msg: 'Input should be a valid dictionary or object to extract fields from', input: body })
    return {}
  }
  if (!('enrichment_models' in body)) {
    errors.push({ type: 'missing', loc: ['body', 'enrichment_models'], msg: 'Field required', input: body })
    return {}
  }
  const models = (body as { enrichment_models: unknown }).enrichment_models
  if (typeof models !== 'object' || models === null || Array.isArray(models)) {
    errors.push({ type: 'dict_type', loc: ['body', 'enrichment_models'], msg: 'Input should be a valid dictionary', input: models })
    return {}
  }
  const result: Record<string, string> = {}
  for (const [type, modelId] of Object.entries(models)) {
    if (typeof modelId === 'string') result[type] = modelId
    else errors.push({ type: 'string_type', loc: ['body', 'enrichment_models', type], msg: 'Input should be a valid string', input: modelId })
  }
  return result
}

export function enrichmentRoutes (ctx: RouteContext): RouteSpec[] {
  return [
    {
      method: 'GET',
      url: '/api/v1/enrichment/:dataset_id/list_models',
      handler: async (request) => {
        const { account, id } = callerAndPathId(ctx, request, 'dataset_id')
        visibleDataset(ctx.state(), account, id)
        return ENRICHMENT_MODELS
      }
    },
    {
      method: 'GET',
      url: '/api/v1/enrichment/:dataset_id/context',
      handler: async (request) => {
        const { account, id } = callerAndPathId(ctx, request, 'dataset_id')
        const state = ctx.state()
        return enrichmentContextJson(visibleDataset(state, account, id), state, ctx.clock.now())
      }
    },
    {
      method: 'POST',
      url: '/api/v1/dataset/:dataset_id/enrich_dataset',
      handler: async (request) => {
        const account = ctx.authenticate(request.headers.authorization)
        const validator = new RequestValidator()
        const id = validator.pathUuid('dataset_id', (request.params as DatasetParams).dataset_id)
        const body = parseJsonBody(request.body)
        const errors = [...validator.errors]
        const models = body.ok ? readEnrichmentModels(body.value, errors) : (errors.push(body.item), {})
        if (errors.length > 0) throw validationFailed(errors)
        const datasetId = startEnrichment(ctx.state(), account, id, models, ctx.clock.now())
        return { dataset_id: datasetId }
      }
    }
  ]
}
