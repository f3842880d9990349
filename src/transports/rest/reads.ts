import type { FastifyRequest } from 'fastify'
import { z } from 'zod'
import type { DomainContext } from '../../domain/context.js'
import { watchDataset } from '../../domain/live/watch.js'
import { creationStatusOf, datasetById, datasetOf, enrichmentOf, listDatasets, modelsOf } from '../../domain/datasets.js'
import type { DatasetParent } from '../../domain/parents.js'
import { taskFilterOptions, taskPage } from '../../domain/task-list.js'
import { GatewayError } from '../../errors.js'
import type { OpenDatasetStream } from './dataset-events.js'
import { plain, sendRepresentation } from './representation.js'
import type { Routes } from './routes.js'
import { CreationStatus, DatasetList, DatasetWithIncludes, LiveDatasetStream, ModelList, TaskFilterOptions, TaskPage } from './document-schemas.js'
import { DatasetParams, DatasetQuery, FilterOptionsQuery, ModelsQuery, NoQuery, TasksQuery, type Include } from './schemas.js'

/* The resources /v1 reads: datasets (one with what ?include embeds, its creation status, its models), pages of tasks, the task filters' values. */

function notFound (id: string): GatewayError {
  return new GatewayError('NOT_FOUND', `Dataset ${id} does not exist, or you may not see it.`)
}

/** A dataset as JSON, with the related resources `include` names embedded (read in parallel). */
async function datasetResource (
  ctx: DomainContext, request: FastifyRequest, dataset: DatasetParent, include: ReadonlySet<Include>
): Promise<unknown> {
  const body = plain(dataset, request.log) as Record<string, unknown>
  const sourceId = body.sourceDatasetId as string | null
  const embedded = await Promise.all([...include].map(async (name): Promise<[Include, unknown]> => {
    switch (name) {
      case 'sourceDataset': return [name, sourceId === null ? null : plain(await datasetOf(ctx, sourceId), request.log)]
      case 'creationStatus': return [name, await creationStatusOf(ctx, dataset.id)]
      case 'models': return [name, plain(await modelsOf(ctx, dataset.id, false), request.log)]
      case 'enrichment': {
        const enrichment = await enrichmentOf(ctx, dataset.id)
        return [name, { id: enrichment.id, status: enrichment.status, applied: enrichment.applied.map(({ type, modelId }) => ({ type, modelId })) }]
      }
    }
    throw new Error('unreachable: include names are checked')
  }))
  for (const [name, value] of embedded) body[name] = value
  return body
}

/** Links to the other pages of a list (RFC 8288), on the request's own URL with `page` changed. */
function pageLinks (request: FastifyRequest, page: number, pageSize: number, total: number): string {
  const url = new URL(request.url, 'http://gateway')
  const last = Math.max(1, Math.ceil(total / pageSize))
  const link = (to: number, rel: string): string => {
    url.searchParams.set('page', String(to))
    url.searchParams.set('pageSize', String(pageSize))
    return `<${url.pathname}${url.search}>; rel="${rel}"`
  }
  const links = [link(1, 'first')]
  if (page > 1) links.push(link(Math.min(page - 1, last), 'prev'))
  if (page < last) links.push(link(page + 1, 'next'))
  links.push(link(last, 'last'))
  return links.join(', ')
}

/** Whether a GET of a resource asks for its live stream: ?live=1, or an Accept that names text/event-stream. */
function wantsStream (request: FastifyRequest, live: boolean | undefined): boolean {
  if (live !== undefined) return live
  return /(^|,)\s*text\/event-stream\s*(;|,|$)/i.test(request.headers.accept ?? '')
}

export function registerReads ({ route, contextOf }: Routes, openStream: OpenDatasetStream): void {
  route({
    method: 'GET',
    url: '/datasets',
    operationId: 'listDatasets',
    summary: 'Every dataset the caller can see, newest first.',
    tags: ['datasets'],
    query: NoQuery,
    success: { status: 200, schema: DatasetList, description: 'The datasets.' }
  }, async (request, reply) => {
    const datasets = await listDatasets(contextOf(request, reply))
    return sendRepresentation(request, reply, { nodes: plain(datasets, request.log) })
  })

  route({
    method: 'GET',
    url: '/datasets/:id',
    operationId: 'getDataset',
    summary: 'One dataset, with the related resources ?include names embedded; with ?live=1 or Accept: text/event-stream, as Server-Sent Events ' +
      'each time it changes (on the shared poller of /events, counted against REST_MAX_STREAMS_PER_CALLER).',
    tags: ['datasets'],
    params: DatasetParams,
    query: DatasetQuery,
    headers: { 'Last-Event-ID': z.string().meta({ description: 'A live stream\'s reconnect: the id of the last event received; that state is not sent again.' }).optional() },
    success: {
      status: 200, schema: DatasetWithIncludes, description: 'The dataset, or its live stream.', alternatives: { 'text/event-stream': LiveDatasetStream }
    },
    problems: [404]
  }, async (request, reply, { params, query }) => {
    if (wantsStream(request, query.live)) {
      // The dataset's shared poller, followed past every settled status until the client leaves; each state read with its includes afresh.
      return await openStream(request, reply, (ctx) => ({
        events: watchDataset(ctx, params.id, true),
        event: 'dataset',
        render: async (dataset) => await datasetResource(ctx, request, dataset, query.include)
      }))
    }
    const ctx = contextOf(request, reply)
    const dataset = await datasetById(ctx, 'id', params.id)
    if (dataset === null) throw notFound(params.id)
    return sendRepresentation(request, reply, await datasetResource(ctx, request, dataset, query.include))
  })

  route({
    method: 'GET',
    url: '/datasets/:id/creation-status',
    operationId: 'getDatasetCreationStatus',
    summary: 'Creation progress of a dataset made from uploaded files.',
    tags: ['datasets'],
    params: DatasetParams,
    query: NoQuery,
    success: { status: 200, schema: CreationStatus, description: 'The creation status.' },
    problems: [404]
  }, async (request, reply, { params }) => {
    const status = await creationStatusOf(contextOf(request, reply), params.id)
    if (status === null) throw new GatewayError('NOT_FOUND', `Dataset ${params.id} has no creation status: it does not exist, or you may not see it.`)
    return sendRepresentation(request, reply, status)
  })

  route({
    method: 'GET',
    url: '/datasets/:id/models',
    operationId: 'listDatasetModels',
    summary: 'Enrichment models that can be applied to this dataset.',
    tags: ['datasets'],
    params: DatasetParams,
    query: ModelsQuery,
    success: { status: 200, schema: ModelList, description: 'The models.' },
    problems: [404]
  }, async (request, reply, { params, query }) => {
    const models = await modelsOf(contextOf(request, reply), params.id, query.active ?? false)
    return sendRepresentation(request, reply, { nodes: plain(models, request.log) })
  })

  route({
    method: 'GET',
    url: '/tasks',
    operationId: 'listTasks',
    summary: 'Tasks across every dataset the caller can see, one page at a time.',
    tags: ['tasks'],
    query: TasksQuery,
    success: {
      status: 200,
      schema: TaskPage,
      description: 'A page of tasks, with the total.',
      headers: { Link: 'RFC 8288 links to the first, prev, next and last pages.' }
    }
  }, async (request, reply, { query }) => {
    const { page, pageSize, orderBy, direction, ...filter } = query
    const result = await taskPage(contextOf(request, reply), {
      filter,
      orderBy: { field: orderBy ?? 'START_TIME', direction: direction ?? 'DESC' },
      page,
      pageSize
    })
    void reply.header('link', pageLinks(request, page, pageSize, result.total))
    return sendRepresentation(request, reply, plain(result, request.log))
  })

  route({
    method: 'GET',
    url: '/tasks/filter-options',
    operationId: 'getTaskFilterOptions',
    summary: 'The values that occur in each task filter, to build filter menus.',
    tags: ['tasks'],
    query: FilterOptionsQuery,
    success: { status: 200, schema: TaskFilterOptions, description: 'The filter values.' }
  }, async (request, reply, { query }) => {
    return sendRepresentation(request, reply, await taskFilterOptions(contextOf(request, reply), query))
  })
}
