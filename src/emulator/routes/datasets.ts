import type { FastifyRequest } from 'fastify'
import { datasetStateAt } from '../dataset-state.js'
import { datasetsOf, visibleDataset } from '../lookups.js'
import type { RawQuery } from '../request-validation.js'
import { RequestValidator } from '../request-validation.js'
import { callerAndPathId, type RouteContext, type RouteSpec } from '../route-context.js'
import { datasetJson, datasetListItemJson } from '../views.js'

export function datasetRoutes (ctx: RouteContext): RouteSpec[] {
  const datasetFrom = (request: FastifyRequest) => {
    const { account, id } = callerAndPathId(ctx, request, 'dataset_id')
    const state = ctx.state()
    const dataset = visibleDataset(state, account, id)
    const now = ctx.clock.now()
    return { dataset, datasetState: datasetStateAt(dataset, state, now) }
  }

  return [
    {
      method: 'GET',
      url: '/api/v1/datasets',
      // Sorted by `date` (newest created_at first) or `name` (display_name, code-unit order); ties by id.
      handler: async (request) => {
        const account = ctx.authenticate(request.headers.authorization)
        const validator = new RequestValidator(request.query as RawQuery)
        const sortBy = validator.enumValue('sort_by', ['date', 'name'] as const, 'date')
        const includeHidden = validator.bool('include_hidden', false)
        validator.check()
        const state = ctx.state()
        const now = ctx.clock.now()
        const datasets = datasetsOf(state, account)
          .filter((dataset) => includeHidden || !dataset.hidden)
          .sort((a, b) => {
            const primary = sortBy === 'date'
              ? b.createdAtMs - a.createdAtMs || b.createdAtMicros - a.createdAtMicros
              : compare(a.displayName, b.displayName)
            return primary || compare(a.id, b.id)
          })
        return datasets.map((dataset) => datasetListItemJson(dataset, datasetStateAt(dataset, state, now)))
      }
    },
    {
      method: 'GET',
      url: '/api/v1/dataset/:dataset_id',
      handler: async (request) => {
        const { dataset, datasetState } = datasetFrom(request)
        return datasetJson(dataset, datasetState)
      }
    },
    {
      method: 'GET',
      url: '/api/v1/datasets/:dataset_id/creation-status',
      handler: async (request) => {
        const { datasetState } = datasetFrom(request)
        return { status: datasetState.status, progress: datasetState.progress }
      }
    }
  ]
}

function compare (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
