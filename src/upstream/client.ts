import { LRUCache } from 'lru-cache'
import { Pool } from 'undici'
import type { FastifyBaseLogger } from 'fastify'
import type { z } from 'zod'
import type { UpstreamSettings } from '../config.js'
import { GatewayError } from '../errors.js'
import type { Checked } from './checked.js'
import type { ServiceTokens } from './token.js'
import { CircuitBreaker } from './breaker.js'
import type { CallBudget } from './call-budget.js'
import { breakerOpenError, budgetExceededError, tokenRefusedEarlierError, upstreamContractError, upstreamNetworkError, upstreamStatusError, upstreamTooLargeError, type FailedCall } from './errors.js'
import { backoffMs, RETRYABLE_STATUSES, retryAfterMs, RetryBudget } from './retry.js'
import { TokenGate } from './token-gate.js'
import {
  checkedDatasetSchema, checkedTaskSchema, creationStatusSchema, datasetListSchema, enrichmentContextSchema, enrichResponseSchema,
  healthcheckSchema, modelListSchema, taskFiltersSchema, taskPageSchema,
  type UpstreamCreationStatus, type UpstreamDataset, type UpstreamEnrichmentContext, type UpstreamEnrichResponse, type UpstreamHealth,
  type UpstreamModel, type UpstreamTask, type UpstreamTaskFilters, type UpstreamTaskPage
} from './schemas.js'

/**
 * The Visual Layer REST client: one undici pool, a deadline per call, a cap on response size,
 * zod-validated payloads and upstream failures translated into GatewayErrors. It knows nothing
 * of GraphQL. Which credential a call uses is the caller's choice, passed with every call.
 */

/** The credential an upstream call is made with. */
export type Credential =
  | { readonly kind: 'service' }
  /** No credential: only for documents that never reach Visual Layer (schema introspection). */
  | { readonly kind: 'anonymous' }
  | {
    readonly kind: 'bearer'
    /** The caller's own Visual Layer JWT, forwarded unchanged. */
    readonly token: string
    /** Its `sub` (the API key), as the token claims it: not verified by the gateway. */
    readonly subject: string
    /** SHA-256 of the token, to key state without keeping the token itself. */
    readonly fingerprint: string
    readonly expiresAt: number
  }

export interface CallOptions {
  credential: Credential
  requestId?: string
  /** The caller's cancellation: aborts the upstream call. */
  signal?: AbortSignal
  /** The operation's allowance of upstream calls; every request sent takes one. */
  budget?: CallBudget
}

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

interface RequestSpec<T> {
  method: 'GET' | 'POST'
  path: string
  query?: Record<string, string | number | boolean | undefined>
  body?: unknown
  schema: z.ZodType<T>
  what: string
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
  standingOf?: (credential: Credential) => 'proven' | 'unproven' | 'refused'
}

interface Answer { status: number, body: unknown, token: string | null, retryAfter: string | string[] | undefined }

/** A GET in flight, shared by every identical request of one scope until it settles. */
interface SharedCall { readonly answer: Promise<Answer>, readonly controller: AbortController, waiters: number }

/** Full-jitter backoff between GET retries, when Visual Layer gives no Retry-After. */
const BACKOFF = { baseMs: 100, capMs: 2_000 }

/** What one attempt gave: an answer, or a network failure (and whether trying again may help). */
type Attempt = { answer: Answer } | { failure: GatewayError, retryable: boolean }

export class VisualLayerClient {
  private readonly pool: Pool
  private readonly basePath: string
  private readonly settings: UpstreamSettings
  private readonly serviceTokens: ServiceTokens | null
  private readonly log: FastifyBaseLogger
  private readonly onVerdict: (credential: Credential, accepted: boolean) => void
  private readonly scopeOf: ((credential: Credential) => string) | null
  private readonly standingOf: (credential: Credential) => 'proven' | 'unproven' | 'refused'
  private readonly unproven = new TokenGate()
  /** GETs in flight, by scope, method and path with query. */
  private readonly inFlight = new Map<string, SharedCall>()
  private readonly retries: number
  private readonly budget = new RetryBudget()
  private readonly breaker: CircuitBreaker
  /** Model lists change only when Visual Layer ships models: reused for a while, per scope. */
  private readonly modelCache: LRUCache<string, Array<Checked<UpstreamModel>>> | null

  constructor (options: VisualLayerClientOptions) {
    const url = new URL(options.settings.baseUrl)
    this.basePath = url.pathname.replace(/\/+$/, '')
    this.settings = options.settings
    this.serviceTokens = options.serviceTokens
    this.log = options.logger
    this.onVerdict = options.onVerdict ?? (() => {})
    this.scopeOf = options.scopeOf ?? null
    this.standingOf = options.standingOf ?? (() => 'proven')
    const { retries, breakerThreshold, breakerCooldownMs, modelCacheTtlMs } = options.settings
    this.retries = retries
    this.breaker = new CircuitBreaker(breakerThreshold, breakerCooldownMs)
    this.modelCache = modelCacheTtlMs > 0 ? new LRUCache({ max: 10_000, ttl: modelCacheTtlMs }) : null
    this.pool = new Pool(url.origin, {
      connections: options.settings.connections,
      connect: { timeout: options.settings.connectTimeoutMs },
      headersTimeout: options.settings.timeoutMs,
      bodyTimeout: options.settings.timeoutMs
    })
  }

  getDataset (id: string, call: CallOptions): Promise<Checked<UpstreamDataset>> {
    return this.request({ method: 'GET', path: `/api/v1/dataset/${encodeURIComponent(id)}`, schema: checkedDatasetSchema, what: `dataset ${id}` }, call)
  }

  listDatasets (call: CallOptions): Promise<Array<Checked<UpstreamDataset>>> {
    return this.request({ method: 'GET', path: '/api/v1/datasets', schema: datasetListSchema, what: 'the dataset list' }, call)
  }

  getCreationStatus (id: string, call: CallOptions): Promise<UpstreamCreationStatus> {
    return this.request({ method: 'GET', path: `/api/v1/datasets/${encodeURIComponent(id)}/creation-status`, schema: creationStatusSchema, what: `the creation status of dataset ${id}` }, call)
  }

  async listModels (datasetId: string, call: CallOptions): Promise<Array<Checked<UpstreamModel>>> {
    const key = this.scopeOf === null ? null : `${this.scopeOf(call.credential)} ${datasetId}`
    const cached = key === null ? undefined : this.modelCache?.get(key)
    if (cached !== undefined) return cached
    const models = await this.request({ method: 'GET', path: `/api/v1/enrichment/${encodeURIComponent(datasetId)}/list_models`, schema: modelListSchema, what: `the models of dataset ${datasetId}` }, call)
    if (key !== null) this.modelCache?.set(key, models)
    return models
  }

  getEnrichmentContext (datasetId: string, call: CallOptions): Promise<UpstreamEnrichmentContext> {
    return this.request({ method: 'GET', path: `/api/v1/enrichment/${encodeURIComponent(datasetId)}/context`, schema: enrichmentContextSchema, what: `the enrichment context of dataset ${datasetId}` }, call)
  }

  listTasks (params: TaskListParams, call: CallOptions): Promise<UpstreamTaskPage> {
    return this.request({ method: 'GET', path: '/api/v1/tasks', query: { ...params }, schema: taskPageSchema, what: 'the task list' }, call)
  }

  getTaskFilters (params: Pick<TaskListParams, 'start_time_from' | 'start_time_to'>, call: CallOptions): Promise<UpstreamTaskFilters> {
    return this.request({ method: 'GET', path: '/api/v1/tasks/filters', query: { ...params }, schema: taskFiltersSchema, what: 'the task filter options' }, call)
  }

  /**
   * Starts an enrichment: Visual Layer builds a new copy of the dataset with these models applied
   * (`{type: modelId}`) and answers the copy's id. Sent once, never retried, never shared: when the
   * outcome is unknown (timeout, dropped connection) the error says so.
   */
  enrichDataset (datasetId: string, models: Readonly<Record<string, string>>, call: CallOptions): Promise<UpstreamEnrichResponse> {
    return this.request({ method: 'POST', path: `/api/v1/dataset/${encodeURIComponent(datasetId)}/enrich_dataset`, body: { enrichment_models: models }, schema: enrichResponseSchema, what: `the enrichment of dataset ${datasetId}` }, call)
  }

  /** Aborts a dataset-creation task; answers the task as it is now. Sent once, never retried. */
  abortTask (taskId: string, call: CallOptions): Promise<Checked<UpstreamTask>> {
    return this.request({ method: 'POST', path: `/api/v1/tasks/${encodeURIComponent(taskId)}/abort`, schema: checkedTaskSchema, what: `the abort of task ${taskId}` }, call)
  }

  /** Restarts a FAILED or ABORTED dataset-creation task; answers the task as it is now. Sent once, never retried. */
  retryTask (taskId: string, call: CallOptions): Promise<Checked<UpstreamTask>> {
    return this.request({ method: 'POST', path: `/api/v1/tasks/${encodeURIComponent(taskId)}/retry`, schema: checkedTaskSchema, what: `the retry of task ${taskId}` }, call)
  }

  /**
   * Drops the shared GETs in flight for these datasets (and every task-list read) in one scope,
   * after a write: a read that started before the write must not answer requests made after it.
   */
  forgetInFlight (scope: string, datasetIds: readonly string[]): void {
    for (const key of this.inFlight.keys()) {
      if (!key.startsWith(`${scope} `)) continue
      const path = key.slice(scope.length + 1)
      if (path.startsWith('/api/v1/tasks') || path.startsWith('/api/v1/datasets?') || path === '/api/v1/datasets' || datasetIds.some((id) => path.includes(`/${encodeURIComponent(id)}`))) {
        this.inFlight.delete(key)
      }
    }
  }

  /** Visual Layer's own health check; needs no credential. */
  healthcheck (options: { requestId?: string, signal?: AbortSignal } = {}): Promise<UpstreamHealth> {
    return this.request({ method: 'GET', path: '/api/v1/healthcheck', schema: healthcheckSchema, what: 'the health check' }, { credential: null, ...options })
  }

  async close (): Promise<void> {
    await this.pool.close()
  }

  private async request<T> (spec: RequestSpec<T>, call: Omit<CallOptions, 'credential'> & { credential: Credential | null }): Promise<T> {
    const failed: FailedCall = { method: spec.method, what: spec.what, credential: call.credential?.kind ?? 'service' }
    const answer = await this.coalesced(spec, call, failed)
    if (answer.status < 200 || answer.status >= 300) throw upstreamStatusError(answer.status, answer.body, failed)
    const parsed = spec.schema.safeParse(answer.body)
    if (!parsed.success) {
      const error = upstreamContractError(failed, parsed.error.issues)
      this.log.error({ requestId: call.requestId, upstream: { method: spec.method, path: spec.path }, issues: parsed.error.issues }, 'Visual Layer payload broke its documented contract')
      throw error
    }
    return parsed.data
  }

  /**
   * Identical GETs in flight at the same moment in the same credential scope share one upstream
   * call. Each waiter stops waiting on its own cancel; the shared call is aborted when the last of
   * its waiters has gone (the caller's cancel reaches Visual Layer, a sibling's does not).
   */
  private coalesced<T> (spec: RequestSpec<T>, call: Omit<CallOptions, 'credential'> & { credential: Credential | null }, failed: FailedCall): Promise<Answer> {
    if (spec.method !== 'GET' || this.scopeOf === null) return this.exchange(spec, call, failed)
    const scope = call.credential === null ? 'anonymous' : this.scopeOf(call.credential)
    const key = `${scope} ${spec.path}${queryString(spec.query)}`
    let shared = this.inFlight.get(key)
    if (shared === undefined) {
      const controller = new AbortController()
      const entry: SharedCall = { controller, waiters: 0, answer: this.exchange(spec, { ...call, signal: controller.signal }, failed) }
      const forget = (): void => { if (this.inFlight.get(key) === entry) this.inFlight.delete(key) }
      entry.answer.then(forget, forget)
      this.inFlight.set(key, entry)
      shared = entry
    }
    const joined = shared
    joined.waiters++
    if (call.signal === undefined) return joined.answer
    return abortable(joined.answer, call.signal, () => {
      joined.waiters--
      if (joined.waiters > 0) return
      joined.controller.abort(call.signal?.reason)
      if (this.inFlight.get(key) === joined) this.inFlight.delete(key)
    })
  }

  /**
   * One logical call, inside one overall deadline: a service token Visual Layer refused is replaced
   * once; an idempotent GET is retried while Visual Layer says "try again", the deadline allows and
   * the retry budget lasts. A POST is sent once.
   */
  private async exchange<T> (spec: RequestSpec<T>, call: Omit<CallOptions, 'credential'> & { credential: Credential | null }, failed: FailedCall): Promise<Answer> {
    const release = await this.admit(call.credential, call.signal, failed)
    try {
      return await this.exchangeAdmitted(spec, call, failed)
    } finally {
      release()
    }
  }

  /**
   * A caller's token Visual Layer refused is not sent again; one it has not accepted yet waits for
   * its turn (one call at a time), and is checked again then: the call before may have settled it.
   */
  private async admit (credential: Credential | null, signal: AbortSignal | undefined, failed: FailedCall): Promise<() => void> {
    const none = (): void => {}
    if (credential?.kind !== 'bearer') return none
    const before = this.standingOf(credential)
    if (before === 'refused') throw tokenRefusedEarlierError(failed)
    if (before === 'proven') return none
    const release = await this.unproven.acquire(credential.fingerprint, signal)
    const now = this.standingOf(credential)
    if (now === 'unproven') return release
    release()
    if (now === 'refused') throw tokenRefusedEarlierError(failed)
    return none
  }

  private async exchangeAdmitted<T> (spec: RequestSpec<T>, call: Omit<CallOptions, 'credential'> & { credential: Credential | null }, failed: FailedCall): Promise<Answer> {
    const deadline = AbortSignal.timeout(this.settings.timeoutMs)
    const end = performance.now() + this.settings.timeoutMs
    const signal = call.signal === undefined ? deadline : AbortSignal.any([deadline, call.signal])
    this.budget.recordCall()
    let renewed = false
    let retries = 0
    while (true) {
      const result = await this.attempt(spec, call, failed, signal, deadline)
      let wait: number
      if ('failure' in result) {
        wait = backoffMs(retries, BACKOFF)
        if (!result.retryable || !this.mayRetry(spec, call.budget, retries, end, wait)) throw result.failure
      } else {
        const answer = result.answer
        if (answer.status === 401 && call.credential?.kind === 'service' && this.serviceTokens !== null && !renewed) {
          // A service token can be refused after a secret rotation or clock skew: mint once more.
          this.serviceTokens.invalidate(answer.token ?? '')
          renewed = true
          continue
        }
        wait = retryAfterMs(answer.retryAfter) ?? backoffMs(retries, BACKOFF)
        if (!RETRYABLE_STATUSES.has(answer.status) || !this.mayRetry(spec, call.budget, retries, end, wait)) {
          if (call.credential?.kind === 'bearer' && provesToken(answer.status)) this.onVerdict(call.credential, answer.status !== 401)
          return answer
        }
      }
      retries++
      this.log.debug({ requestId: call.requestId, upstream: { method: spec.method, path: spec.path }, retry: retries, waitMs: wait }, 'retrying upstream call')
      await sleep(wait, signal)
    }
  }

  /**
   * Only GETs; within the retry count, the overall deadline, the operation's call budget (spent, the
   * caller gets the failure itself rather than a refusal) and the gateway's retry budget.
   */
  private mayRetry (spec: RequestSpec<unknown>, calls: CallBudget | undefined, retries: number, end: number, wait: number): boolean {
    return spec.method === 'GET' && retries < this.retries && performance.now() + wait < end && calls?.exhausted !== true && this.budget.tryRetry()
  }

  /** One attempt through the operation's call budget and the circuit breaker. */
  private async attempt<T> (spec: RequestSpec<T>, call: Omit<CallOptions, 'credential'> & { credential: Credential | null }, failed: FailedCall, signal: AbortSignal, deadline: AbortSignal): Promise<Attempt> {
    if (call.budget?.exhausted === true) throw budgetExceededError(failed, call.budget.max)
    if (!this.breaker.admit()) throw breakerOpenError(failed, this.breaker.retryInMs)
    call.budget?.take()
    let result: Attempt
    try {
      result = await this.send(spec, call, failed, signal, deadline)
    } catch (err) {
      this.breaker.released()
      throw err
    }
    if ('failure' in result || result.answer.status >= 500) this.breaker.failed()
    else if (result.answer.status === 429) this.breaker.released()
    else this.breaker.succeeded()
    return result
  }

  private async send<T> (spec: RequestSpec<T>, call: Omit<CallOptions, 'credential'> & { credential: Credential | null }, failed: FailedCall, signal: AbortSignal, deadline: AbortSignal): Promise<Attempt> {
    const token = this.tokenFor(call.credential)
    const headers: Record<string, string> = { accept: 'application/json' }
    if (token !== null) headers.authorization = `Bearer ${token}`
    if (call.requestId !== undefined) headers['x-request-id'] = call.requestId
    let body: string | undefined
    if (spec.body !== undefined) {
      body = JSON.stringify(spec.body)
      headers['content-type'] = 'application/json'
    }
    const path = this.basePath + spec.path + queryString(spec.query)
    const started = performance.now()
    try {
      const res = await this.pool.request({ method: spec.method, path, headers, body, signal })
      const text = await readCapped(res.body, this.settings.maxResponseBytes, failed)
      this.log.debug({ requestId: call.requestId, upstream: { method: spec.method, path: spec.path, status: res.statusCode, ms: Math.round(performance.now() - started) } }, 'upstream call')
      return { answer: { status: res.statusCode, body: parseJson(text), token, retryAfter: res.headers['retry-after'] } }
    } catch (err) {
      if (err instanceof GatewayError) throw err
      if (call.signal?.aborted === true) throw err
      const timedOut = deadline.aborted
      const failure = upstreamNetworkError(timedOut ? Object.assign(new Error('deadline exceeded'), { code: 'UPSTREAM_DEADLINE' }) : err, failed)
      this.log.warn({ requestId: call.requestId, upstream: { method: spec.method, path: spec.path, ms: Math.round(performance.now() - started) }, cause: failure.logDetail }, 'upstream call failed')
      // Past the overall deadline there is no time left to try again.
      return { failure, retryable: !timedOut }
    }
  }

  private tokenFor (credential: Credential | null): string | null {
    if (credential === null) return null
    if (credential.kind === 'bearer') return credential.token
    if (credential.kind === 'anonymous') {
      throw new GatewayError('UNAUTHENTICATED', 'This request carries no credential: send "Authorization: Bearer <token>".')
    }
    if (this.serviceTokens === null) {
      throw new GatewayError('INTERNAL_SERVER_ERROR', 'The gateway has no service account to call Visual Layer with.')
    }
    return this.serviceTokens.token()
  }
}

/** Statuses Visual Layer answers only once it has checked the token (or with 401, refused it). */
function provesToken (status: number): boolean {
  return status < 500 && status !== 429
}

async function sleep (ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) throw signal.reason
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => { clearTimeout(timer); reject(signal.reason) }
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve() }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

function abortable<T> (pending: Promise<T>, signal: AbortSignal, onLeave: () => void): Promise<T> {
  if (signal.aborted) {
    onLeave()
    return Promise.reject(signal.reason)
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => { onLeave(); reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
    pending.then(
      (value) => { signal.removeEventListener('abort', onAbort); resolve(value) },
      (err: unknown) => { signal.removeEventListener('abort', onAbort); reject(err) }
    )
  })
}

function queryString (query: RequestSpec<unknown>['query']): string {
  if (query === undefined) return ''
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) params.set(key, String(value))
  }
  const text = params.toString()
  return text === '' ? '' : `?${text}`
}

function parseJson (text: string): unknown {
  if (text === '') return null
  try {
    return JSON.parse(text)
  } catch {
    // Not JSON (a proxy's error page): keep it out of the error, it may carry internals.
    return undefined
  }
}

async function readCapped (body: AsyncIterable<Buffer> & { destroy: (err?: Error) => unknown }, limit: number, failed: FailedCall): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    size += chunk.length
    if (size > limit) {
      body.destroy()
      throw upstreamTooLargeError(failed, limit)
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}
