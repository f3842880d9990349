import createClient from 'openapi-fetch'
import type { components, paths } from './api.js'

/*
 * A partner service calling the gateway's REST API through a typed client generated from its
 * OpenAPI document (openapi-typescript types, openapi-fetch calls): it lists failed dataset-creation
 * tasks, retries one, enriches a dataset with an idempotency key and follows the enriched copy's
 * event stream until it is READY. Every answer is typed by the document; errors are problems.
 */

export type Dataset = components['schemas']['Dataset']
export type Task = components['schemas']['Task']
export type Problem = components['schemas']['Problem']

export interface PartnerOptions {
  baseUrl: string
  /** The Bearer token, when the gateway's AUTH_MODE needs one. */
  token?: string
  /** Called with each status event of the followed dataset. */
  onStatus?: (dataset: Dataset) => void
}

export interface PartnerReport {
  failedTasks: Task[]
  retried: Task | null
  enrichedDatasetId: string
  /** The enriched dataset's statuses, as its event stream told them. */
  statuses: string[]
}

export class ProblemError extends Error {
  constructor (readonly problem: Problem) {
    super(`${problem.status} ${problem.code}: ${problem.detail}`)
  }
}

function check<T> (result: { data?: T, error?: unknown }): T {
  if (result.error !== undefined) throw new ProblemError(result.error as Problem)
  if (result.data === undefined) throw new Error('no answer')
  return result.data
}

export async function runPartner (options: PartnerOptions, sourceDatasetId: string, idempotencyKey: string): Promise<PartnerReport> {
  const headers: Record<string, string> = options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }
  const client = createClient<paths>({ baseUrl: options.baseUrl, headers })

  const page = check(await client.GET('/v1/tasks', { params: { query: { status: 'FAILED', type: 'DATASET_CREATION', pageSize: 10 } } }))
  const retryable = page.nodes.find((task) => task.canRetry)
  const retried = retryable === undefined
    ? null
    : check(await client.POST('/v1/tasks/{id}/retry', { params: { path: { id: retryable.id } } }))

  const enrichment = check(await client.POST('/v1/datasets/{id}/enrichments', {
    params: { path: { id: sourceDatasetId }, header: { 'Idempotency-Key': idempotencyKey } },
    body: { models: [{ type: 'CAPTION_IMAGES', modelId: 'vl_image_captioner_v00' }] }
  }))

  const statuses = await followUntilSettled(options, enrichment.enrichedDatasetId, headers)
  return { failedTasks: page.nodes, retried, enrichedDatasetId: enrichment.enrichedDatasetId, statuses }
}

/** Reads GET /v1/datasets/{id}/events (Server-Sent Events) until the gateway completes it. */
async function followUntilSettled (options: PartnerOptions, id: string, headers: Record<string, string>): Promise<string[]> {
  const res = await fetch(`${options.baseUrl}/v1/datasets/${id}/events`, { headers: { ...headers, accept: 'text/event-stream' } })
  if (!res.ok || res.body === null) throw new ProblemError(await res.json() as Problem)
  const statuses: string[] = []
  const decoder = new TextDecoder()
  let buffer = ''
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true })
    let end
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      const event = /^event: (.+)$/m.exec(frame)?.[1]
      const data = /^data: (.+)$/m.exec(frame)?.[1]
      if (event === 'status' && data !== undefined) {
        const dataset = JSON.parse(data) as Dataset
        statuses.push(dataset.status)
        options.onStatus?.(dataset)
      }
      if (event === 'problem' && data !== undefined) throw new ProblemError(JSON.parse(data) as Problem)
      if (event === 'complete') return statuses
    }
  }
  return statuses
}
