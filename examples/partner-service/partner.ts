import { EventSourceParserStream } from 'eventsource-parser/stream'
import { fileURLToPath } from 'node:url'
import createClient from 'openapi-fetch'
import type { components, paths } from './api.js'

/*
 * A partner service calling the gateway's REST API through a typed client generated from its
 * OpenAPI document (openapi-typescript types, openapi-fetch calls): it lists failed dataset-creation
 * tasks, retries one, enriches a dataset with an idempotency key and follows the enriched copy's
 * event stream until it is READY, read with eventsource-parser (the whole Server-Sent Events format:
 * data over several lines, comments, CRLF, events split across chunks). Every answer is typed by the
 * document; errors are problems. Run by hand, it prints each step (see the end of this file).
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
  /** Called with a line that says what was just done and what the gateway answered. */
  onStep?: (line: string) => void
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
  const step = options.onStep ?? (() => {})

  const page = check(await client.GET('/v1/tasks', { params: { query: { status: 'FAILED', type: 'DATASET_CREATION', pageSize: 10 } } }))
  step(`GET /v1/tasks?status=FAILED&type=DATASET_CREATION: ${page.nodes.length} failed dataset-creation task(s)` +
    page.nodes.map((task) => `\n  ${task.id} (${task.datasetName ?? task.datasetId})${task.canRetry ? ', can be retried' : ''}`).join(''))
  const retryable = page.nodes.find((task) => task.canRetry)
  let retried: Task | null = null
  if (retryable === undefined) {
    step('no failed task can be retried: nothing to retry')
  } else {
    // A bodiless POST says it is JSON: without a token (AUTH_MODE=none) that is what shows it is no cross-site form.
    retried = check(await client.POST('/v1/tasks/{id}/retry', { params: { path: { id: retryable.id } }, headers: { 'content-type': 'application/json' } }))
    step(`POST /v1/tasks/${retryable.id}/retry: the task is ${retried.status}`)
  }

  const enrichment = check(await client.POST('/v1/datasets/{id}/enrichments', {
    params: { path: { id: sourceDatasetId }, header: { 'Idempotency-Key': idempotencyKey } },
    body: { models: [{ type: 'CAPTION_IMAGES', modelId: 'vl_image_captioner_v00' }] }
  }))
  step(`POST /v1/datasets/${sourceDatasetId}/enrichments (Idempotency-Key: ${idempotencyKey}): the enriched copy is ${enrichment.enrichedDatasetId}`)

  const statuses = await followUntilSettled({ ...options, onStep: step }, enrichment.enrichedDatasetId)
  return { failedTasks: page.nodes, retried, enrichedDatasetId: enrichment.enrichedDatasetId, statuses }
}

/**
 * Reads GET /v1/datasets/{id}/events (Server-Sent Events) until the gateway completes it: the
 * dataset's statuses, in order. A `problem` event is thrown as a ProblemError.
 */
export async function followUntilSettled (options: PartnerOptions, id: string): Promise<string[]> {
  const headers: Record<string, string> = options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }
  const path = `/v1/datasets/${encodeURIComponent(id)}/events`
  const res = await fetch(`${options.baseUrl}${path}`, { headers: { ...headers, accept: 'text/event-stream' } })
  if (!res.ok || res.body === null) throw new ProblemError(await res.json() as Problem)
  const statuses: string[] = []
  const events = res.body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream())
  for await (const message of events) {
    if (message.event === 'status') {
      const dataset = JSON.parse(message.data) as Dataset
      statuses.push(dataset.status)
      options.onStep?.(`GET ${path}: ${dataset.status} ${dataset.progress}%`)
      options.onStatus?.(dataset)
    }
    if (message.event === 'problem') throw new ProblemError(JSON.parse(message.data) as Problem)
    if (message.event === 'complete') {
      options.onStep?.(`GET ${path}: complete`)
      return statuses
    }
  }
  return statuses
}

// By hand, against a running gateway (`npm start`), on the embedded emulator's READY dataset:
//   npx tsx examples/partner-service/partner.ts [baseUrl] [token] [datasetId]
// It prints each step; the copy is READY about 30 s later on the emulator.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [baseUrl = 'http://127.0.0.1:4000', token, datasetId = 'b1a39406-123d-11f1-9353-fa39f6ed1f22'] = process.argv.slice(2)
  const say = (line: string): void => { process.stdout.write(`${line}\n`) }
  try {
    const report = await runPartner({ baseUrl, token: token === '' ? undefined : token, onStep: say }, datasetId, `partner-${Date.now()}`)
    say(`done: ${report.enrichedDatasetId} is ${report.statuses.at(-1) ?? 'unknown'}`)
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = 1
  }
}
