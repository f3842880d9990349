import { enrichDataset, IdempotencyKeyReused } from '../../domain/enrichment/enrich.js'
import { IdempotencyStoreUnavailable } from '../../domain/enrichment/idempotency.js'
import { taskAction } from '../../domain/tasks.js'
import { problemOf, sendProblem } from './problem.js'
import { plain } from './representation.js'
import type { Routes } from './routes.js'
import { Enrichment, EnrichmentBody, Task } from './document-schemas.js'
import { DatasetParams, describeIssue, IdempotencyKey, NoQuery, TaskParams } from './schemas.js'

/* The actions of /v1 (POST): enrichment of a dataset, with an Idempotency-Key; abort and retry of a task. */

export function registerActions ({ route, contextOf }: Routes): void {
  route({
    method: 'POST',
    url: '/datasets/:id/enrichments',
    operationId: 'enrichDataset',
    summary: 'Apply enrichment models to a READY dataset: Visual Layer builds a new, enriched copy.',
    tags: ['datasets'],
    params: DatasetParams,
    query: NoQuery,
    body: EnrichmentBody,
    headers: { 'Idempotency-Key': IdempotencyKey.optional() },
    success: {
      status: 202,
      schema: Enrichment,
      description: 'Accepted: the enriched copy is being built (see Location). A repeat with the same Idempotency-Key and body answers the same.',
      headers: { Location: 'The enriched dataset.' }
    },
    problems: [404, 409, 415, 422]
  }, async (request, reply, { params, body }) => {
    const requestId = String(request.id)
    const rawKey = request.headers['idempotency-key']
    let idempotencyKey: string | null = null
    if (rawKey !== undefined) {
      const key = IdempotencyKey.safeParse(rawKey)
      if (!key.success) return sendProblem(reply, problemOf('BAD_USER_INPUT', describeIssue('header', key.error, rawKey, 'Idempotency-Key'), requestId))
      idempotencyKey = key.data
    }
    let outcome
    try {
      outcome = await enrichDataset({ datasetId: params.id, models: body.models, idempotencyKey }, contextOf(request, reply))
    } catch (err) {
      if (err instanceof IdempotencyStoreUnavailable) {
        request.log.warn({ code: err.code, detail: err.logDetail }, err.message)
        return sendProblem(reply, {
          ...problemOf(err.code, err.message, requestId),
          type: 'urn:vl-gateway:problem:idempotency-store-unavailable',
          title: 'Idempotency store unavailable'
        })
      }
      if (!(err instanceof IdempotencyKeyReused)) throw err
      return sendProblem(reply, {
        ...problemOf('BAD_USER_INPUT', `Idempotency-Key ${JSON.stringify(idempotencyKey?.slice(0, 80))} was already used for another enrichment request (another dataset or other models); use a new key for a new request. Nothing was sent to Visual Layer.`, requestId),
        type: 'urn:vl-gateway:problem:idempotency-key-reused',
        status: 422,
        title: 'Idempotency-Key reused'
      })
    }
    return reply.code(202).header('location', `/v1/datasets/${outcome.enrichedDatasetId}`).header('cache-control', 'no-store')
      .send({ enrichedDatasetId: outcome.enrichedDatasetId, sourceDatasetId: params.id })
  })

  for (const action of ['abort', 'retry'] as const) {
    route({
      method: 'POST',
      url: `/tasks/:id/${action}`,
      operationId: `${action}Task`,
      summary: action === 'abort' ? 'Cancel a dataset-creation task that has not finished.' : 'Restart a dataset-creation task that FAILED or was ABORTED.',
      tags: ['tasks'],
      params: TaskParams,
      query: NoQuery,
      success: { status: 200, schema: Task, description: 'The task as the action left it.' },
      problems: [404, 409]
    }, async (request, reply, { params }) => {
      const task = await taskAction(action, params.id, contextOf(request, reply))
      return reply.header('cache-control', 'no-store').send(plain(task, request.log))
    })
  }
}
