import type { FastifyBaseLogger } from 'fastify'
import type { z } from 'zod'
import type { UpstreamSettings } from '../config.js'
import type { BreakerState } from './circuit-breaker.js'
import { Breakers } from './breakers.js'
import type { Checked } from './checked.js'
import { upstreamContractError, upstreamStatusError, type FailedCall } from './errors.js'
import { stack, type Answer, type CallOptions, type Credential, type Dispatch, type Send, type UpstreamRequest } from './exchange.js'
import { breaker } from './layers/breaker.js'
import { callBudget } from './layers/call-budget.js'
import { callerToken, type Standing } from './layers/caller-token.js'
import { pace } from './layers/pace.js'
import { retry } from './layers/retry.js'
import { serviceTokenRenewal } from './layers/service-token.js'
import { SharedReads } from './layers/shared-reads.js'
import { ModelCache } from './model-cache.js'
import { NO_UPSTREAM_OBSERVER, type UpstreamObserver } from './observer.js'
import { RetryBudget } from './retry-policy.js'
import {
  checkedDatasetSchema, checkedTaskSchema, creationStatusSchema, datasetListSchema, enrichmentContextSchema, enrichResponseSchema,
  healthcheckSchema, modelListSchema, taskFiltersSchema, taskPageSchema,
  type UpstreamCreationStatus, type UpstreamDataset, type UpstreamEnrichmentContext, type UpstreamEnrichResponse, type UpstreamHealth,
  type UpstreamModel, type UpstreamTask, type UpstreamTaskFilters, type UpstreamTaskPage
} from './schemas.js'
import { createSender, type Sender } from './send.js'
import type { ServiceTokens } from './token.js'

/*
 * The Visual Layer REST client as its callers see it: one method per endpoint, each answering a
 * zod-validated payload or throwing a GatewayError. It only names requests; the layers it stacks
 * on `send` (see README.md) do the rest. It knows nothing of GraphQL. Which credential a call
 * uses is the caller's choice, passed with every call.
 */

export type { CallOptions, Credential } from './exchange.js'

export interface TaskListParams {
  dataset_id?: string
  dataset_name?: string
  task_type?: string
  task_status?: string
  created_by?: string
  start_time_from?: string
  start_time_to?: string
  sort_by?: string
  sort_order?: 'asc' | 'desc'
  page?: number
  page_size?: number
}

export interface VisualLayerClientOptions {
  settings: UpstreamSettings & { baseUrl: string }
  /** The service account's tokens; null when only caller tokens are forwarded. */
  serviceTokens: ServiceTokens | null
  logger: FastifyBaseLogger
  /**
   * Told whether Visual Layer accepted or refused (401) a caller's token. Only answers given after
   * authentication prove it: a 429 or 5xx may come from a proxy or limiter in front, and says nothing.
   */
  onVerdict?: (credential: Credential, accepted: boolean) => void
  /** The credential scope of a call: identical GETs in flight in one scope share one upstream call. */
  scopeOf?: (credential: Credential) => string
  /**
   * What Visual Layer said of a caller's token so far: a refused one is not sent again, an unproven
   * one makes one call at a time. Without it every token counts as proven.
   */
  standingOf?: (credential: Credential) => Standing
  /** Told of every request sent, retry, shared read and breaker state (metrics). */
  observer?: UpstreamObserver
  /** Milliseconds on a monotonic clock, for the circuit breakers' cooldown: performance.now unless a test drives it. */
  breakerClock?: () => number
}

type RequestSpec<T> = UpstreamRequest & { schema: z.ZodType<T> }

export class VisualLayerClient {
  private readonly log: FastifyBaseLogger
  private readonly scopeOf: ((credential: Credential) => string) | null
  private readonly sender: Sender
  private readonly reads: SharedReads | null
  private readonly dispatch: Dispatch
  private readonly models: ModelCache | null
  private readonly circuit: Breakers
  /**
   * Each answer's payload checked once: the requests that share one upstream answer (shared reads) share
   * its parse too, instead of each running the schema over the same body (50 tasks a page, per request).
   * Parsed payloads are never mutated: the domain maps them into objects of its own.
   */
  private readonly parses = new WeakMap<Answer, { schema: z.ZodType<unknown>, result: z.ZodSafeParseResult<unknown> }>()

  constructor (options: VisualLayerClientOptions) {
    const { settings, serviceTokens, logger } = options
    this.log = logger
    this.scopeOf = options.scopeOf ?? null
    const observer = options.observer ?? NO_UPSTREAM_OBSERVER
    this.sender = createSender({ settings, serviceTokens, logger, observer })
    const circuit = this.circuit = new Breakers({
      threshold: settings.breakerThreshold,
      cooldownMs: settings.breakerCooldownMs,
      maxScoped: settings.breakerMaxScoped,
      spreadPrincipals: settings.breakerSpreadPrincipals
    }, options.breakerClock)
    // Each try of a call, then the call itself: outermost first, in the order a call meets them.
    const tries = stack<Send>(serviceTokenRenewal(serviceTokens), callBudget(), breaker(circuit, observer.breaker))(this.sender.send)
    const calls = retry({ retries: settings.retries, timeoutMs: settings.timeoutMs, budget: new RetryBudget(), log: logger, observer })(tries)
    this.reads = this.scopeOf === null ? null : new SharedReads(this.scopeOf, observer.sharedRead)
    this.dispatch = stack<Dispatch>(
      ...(this.reads === null ? [] : [this.reads.layer]),
      callerToken({ standingOf: options.standingOf ?? (() => 'proven'), onVerdict: options.onVerdict ?? (() => {}) }),
      pace()
    )(calls)
    this.models = settings.modelCacheTtlMs > 0 && this.scopeOf !== null ? new ModelCache(settings.modelCacheTtlMs) : null
  }

  getDataset (id: string, call: CallOptions): Promise<Checked<UpstreamDataset>> {
    return this.request({
      method: 'GET',
      path: `/api/v1/dataset/${encodeURIComponent(id)}`,
      endpoint: '/api/v1/dataset/{dataset_id}',
      resource: { kind: 'dataset', datasetId: id },
      schema: checkedDatasetSchema,
      what: `dataset ${id}`
    }, call)
  }

  listDatasets (call: CallOptions): Promise<Array<Checked<UpstreamDataset>>> {
    return this.request({
      method: 'GET',
      path: '/api/v1/datasets',
      endpoint: '/api/v1/datasets',
      resource: { kind: 'dataset-list' },
      schema: datasetListSchema,
      what: 'the dataset list'
    }, call)
  }

  getCreationStatus (id: string, call: CallOptions): Promise<UpstreamCreationStatus> {
    return this.request({
      method: 'GET',
      path: `/api/v1/datasets/${encodeURIComponent(id)}/creation-status`,
      endpoint: '/api/v1/datasets/{dataset_id}/creation-status',
      resource: { kind: 'creation-status', datasetId: id },
      schema: creationStatusSchema,
      what: `the creation status of dataset ${id}`
    }, call)
  }

  async listModels (datasetId: string, call: CallOptions): Promise<Array<Checked<UpstreamModel>>> {
    const scope = this.models === null || this.scopeOf === null ? null : this.scopeOf(call.credential)
    const cached = scope === null ? undefined : this.models?.get(scope, datasetId)
    if (cached !== undefined) return cached
    const models = await this.request({
      method: 'GET',
      path: `/api/v1/enrichment/${encodeURIComponent(datasetId)}/list_models`,
      endpoint: '/api/v1/enrichment/{dataset_id}/list_models',
      resource: { kind: 'models', datasetId },
      schema: modelListSchema,
      what: `the models of dataset ${datasetId}`
    }, call)
    if (scope !== null) this.models?.set(scope, datasetId, models)
    return models
  }

  getEnrichmentContext (datasetId: string, call: CallOptions): Promise<UpstreamEnrichmentContext> {
    return this.request({
      method: 'GET',
      path: `/api/v1/enrichment/${encodeURIComponent(datasetId)}/context`,
      endpoint: '/api/v1/enrichment/{dataset_id}/context',
      resource: { kind: 'enrichment-context', datasetId },
      schema: enrichmentContextSchema,
      what: `the enrichment context of dataset ${datasetId}`
    }, call)
  }

  listTasks (params: TaskListParams, call: CallOptions): Promise<UpstreamTaskPage> {
    return this.request({
      method: 'GET',
      path: '/api/v1/tasks',
      endpoint: '/api/v1/tasks',
      query: { ...params },
      resource: { kind: 'task-list' },
      schema: taskPageSchema,
      what: 'the task list'
    }, call)
  }

  getTaskFilters (params: Pick<TaskListParams, 'start_time_from' | 'start_time_to'>, call: CallOptions): Promise<UpstreamTaskFilters> {
    return this.request({
      method: 'GET',
      path: '/api/v1/tasks/filters',
      endpoint: '/api/v1/tasks/filters',
      query: { ...params },
      resource: { kind: 'task-filters' },
      schema: taskFiltersSchema,
      what: 'the task filter options'
    }, call)
  }

  /**
   * Starts an enrichment: Visual Layer builds a new copy of the dataset with these models applied
   * (`{type: modelId}`) and answers the copy's id. Sent once, never retried, never shared: when the
   * outcome is unknown (timeout, dropped connection) the error says so.
   */
  enrichDataset (datasetId: string, models: Readonly<Record<string, string>>, call: CallOptions): Promise<UpstreamEnrichResponse> {
    return this.request({
      method: 'POST',
      path: `/api/v1/dataset/${encodeURIComponent(datasetId)}/enrich_dataset`,
      endpoint: '/api/v1/dataset/{dataset_id}/enrich_dataset',
      body: { enrichment_models: models },
      schema: enrichResponseSchema,
      what: `the enrichment of dataset ${datasetId}`
    }, call)
  }

  /** Aborts a dataset-creation task; answers the task as it is now. Sent once, never retried. */
  abortTask (taskId: string, call: CallOptions): Promise<Checked<UpstreamTask>> {
    return this.request({
      method: 'POST',
      path: `/api/v1/tasks/${encodeURIComponent(taskId)}/abort`,
      endpoint: '/api/v1/tasks/{task_id}/abort',
      schema: checkedTaskSchema,
      what: `the abort of task ${taskId}`
    }, call)
  }

  /** Restarts a FAILED or ABORTED dataset-creation task; answers the task as it is now. Sent once, never retried. */
  retryTask (taskId: string, call: CallOptions): Promise<Checked<UpstreamTask>> {
    return this.request({
      method: 'POST',
      path: `/api/v1/tasks/${encodeURIComponent(taskId)}/retry`,
      endpoint: '/api/v1/tasks/{task_id}/retry',
      schema: checkedTaskSchema,
      what: `the retry of task ${taskId}`
    }, call)
  }

  /**
   * Drops the shared GETs in flight for these datasets (and every list) in one scope, after a
   * write: a read that started before the write must not answer requests made after it.
   */
  forgetInFlight (scope: string, datasetIds: readonly string[]): void {
    this.reads?.forget(scope, datasetIds)
  }

  /** Visual Layer's own health check; needs no credential. */
  healthcheck (options: Pick<CallOptions, 'requestId' | 'signal'> = {}): Promise<UpstreamHealth> {
    return this.request({
      method: 'GET',
      path: '/api/v1/healthcheck',
      endpoint: '/api/v1/healthcheck',
      resource: { kind: 'health' },
      schema: healthcheckSchema,
      what: 'the health check'
    }, { credential: null, ...options })
  }

  /** The shared circuit breaker's state now (a metric reads it at each scrape). */
  get breakerState (): BreakerState {
    return this.circuit.state
  }

  /** How many (account, route) breakers refuse calls now (a metric reads it at each scrape). */
  get scopedBreakersOpen (): number {
    return this.circuit.scopedOpen
  }

  async close (): Promise<void> {
    await this.sender.close()
  }

  /** One call through the layers; a status other than 2xx, or a payload the schema refuses, throws. */
  private async request<T> (spec: RequestSpec<T>, call: CallOptions<Credential | null>): Promise<T> {
    const { schema, ...request } = spec
    const failed: FailedCall = { method: request.method, what: request.what, credential: call.credential?.kind ?? 'service' }
    const answer = await this.dispatch({ request, call, failed })
    if (answer.status < 200 || answer.status >= 300) throw upstreamStatusError(answer.status, answer.body, failed)
    let checked = this.parses.get(answer)
    if (checked?.schema !== schema) {
      checked = { schema, result: schema.safeParse(answer.body) }
      this.parses.set(answer, checked)
    }
    const parsed = checked.result as z.ZodSafeParseResult<T>
    if (!parsed.success) {
      const error = upstreamContractError(failed, parsed.error.issues)
      this.log.error({
        requestId: call.requestId,
        upstream: { method: request.method, path: request.path },
        issues: parsed.error.issues
      }, 'Visual Layer payload broke its documented contract')
      throw error
    }
    return parsed.data
  }
}
