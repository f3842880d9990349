import { createHash } from 'node:crypto'
import { Validator } from '@seriousme/openapi-schema-validator'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import type { TestGateway } from '../helpers/gateway.js'
import { AUTH_MODES, freshToken, startModeGateway } from '../helpers/modes.js'
import { tryAgainIn } from '../helpers/rate-limits.js'

/**
 * The REST door (/v1) over real HTTP to the emulator: exact bodies, upstream call counts, problem
 * details for bad input (and no upstream call), ETag and 304, Link headers, the same answers as the
 * graph for the same seeded data, and authentication in every AUTH_MODE.
 */

const DATASET_FIELDS = 'id displayName description sourceType ownedBy createdAt status progress imageCount videoCount objectCount errorMessage isReady'
const TASK_FIELDS = 'id type status statusMessage progress errorMessage createdBy startTime endTime datasetId datasetName datasetStatus canAbort canRetry'
const MODEL_FIELDS = 'id name type status vendor description dependencies isActive'
const REQUEST_ID = 'rest-test-1'

interface Answer { status: number, headers: Headers, body: any }

type Document = { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: { $ref: string } }> }> }>> }

/**
 * Checks answers against the gateway's own OpenAPI document: the operation whose path template
 * matches, the response of that status, the schema of that media type (ajv, JSON Schema 2020-12).
 */
class DocumentCheck {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true })
  constructor (private readonly document: Document) {
    addFormats.default(this.ajv)
    this.ajv.addSchema({ $id: 'openapi.json', ...document })
  }

  check (method: string, path: string, answer: Answer): void {
    const pathname = path.split('?')[0] ?? ''
    const template = Object.keys(this.document.paths).find((candidate) =>
      new RegExp(`^${candidate.replace(/\{\w+\}/g, '[^/]+')}$`).test(pathname))
    const response = template === undefined ? undefined : this.document.paths[template]?.[method.toLowerCase()]?.responses[String(answer.status)]
    if (template !== undefined && response === undefined) throw new Error(`${method} ${template} does not document status ${answer.status}`)
    const mediaType = (answer.headers.get('content-type') ?? '').split(';')[0] ?? ''
    if (answer.status === 304) {
      expect(answer.body).toBe(null)
      return
    }
    // A path the document does not have is answered with a problem (404), which the document defines.
    const ref = response === undefined ? '#/components/schemas/Problem' : response.content?.[mediaType]?.schema.$ref
    if (ref === undefined) throw new Error(`${method} ${template ?? pathname} ${answer.status} does not document ${mediaType}`)
    const validate = this.ajv.getSchema(`openapi.json${ref}`)
    if (validate === undefined) throw new Error(`no schema ${ref}`)
    if (validate(answer.body) !== true) throw new Error(`${method} ${path} ${answer.status}: ${this.ajv.errorsText(validate.errors)}`)
  }
}

let documentCheck: DocumentCheck | undefined

/** A request to /v1, its answer checked against the OpenAPI document. */
async function request (gw: TestGateway, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  if (documentCheck === undefined) {
    const document = await (await fetch(`${gw.url}/v1/openapi.json`)).json() as Document
    documentCheck = new DocumentCheck(document)
  }
  const res = await fetch(`${gw.url}${path}`, { method, headers, body })
  const text = await res.text()
  const answer = { status: res.status, headers: res.headers, body: text === '' ? null : JSON.parse(text) }
  documentCheck.check(method, path, answer)
  return answer
}

describe('REST /v1', () => {
  let gw: TestGateway
  const get = async (path: string, headers: Record<string, string> = {}): Promise<Answer> =>
    await request(gw, 'GET', path, { 'x-request-id': REQUEST_ID, ...headers })
  const paths = (): string[] => gw.emulator.calls().map((call) => `${call.method} ${call.path}`)
  const badInput = (detail: string): unknown => ({
    type: 'urn:vl-gateway:problem:bad-user-input', title: 'Bad request', status: 400, detail, code: 'BAD_USER_INPUT', requestId: REQUEST_ID
  })
  /** A REST dataset without its REST-only link, to compare with the graph's. */
  const withoutSourceId = ({ sourceDatasetId: _, ...rest }: Record<string, unknown>): Record<string, unknown> => rest

  beforeAll(async () => { gw = await startModeGateway('none') })
  afterAll(async () => { await gw.close() })
  beforeEach(() => { gw.emulator.clearCalls() })

  it('serves its OpenAPI document, valid OpenAPI 3.1, with an ETag', async () => {
    const answer = await get('/v1/openapi.json')
    expect(answer.status).toBe(200)
    expect(answer.headers.get('etag')).toMatch(/^"[\w-]{27}"$/)
    const validator = new Validator()
    const result = await validator.validate(answer.body)
    expect(result).toEqual({ valid: true })
    expect(validator.version).toBe('3.1')
    expect(Object.keys(answer.body.paths)).toEqual([
      '/v1/datasets', '/v1/datasets/{id}', '/v1/datasets/{id}/creation-status', '/v1/datasets/{id}/models', '/v1/tasks', '/v1/tasks/filter-options',
      '/v1/datasets/{id}/enrichments', '/v1/tasks/{id}/abort', '/v1/tasks/{id}/retry', '/v1/datasets/{id}/events',
      '/v1/webhooks', '/v1/webhooks/{id}', '/v1/webhooks/{id}/rotate-secret', '/v1/webhooks/{id}/deliveries',
      '/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver', '/v1/webhooks/{id}/test', '/v1/openapi.json'
    ])
    expect(gw.emulator.calls()).toEqual([])
    // The check is not vacuous: an answer off the document fails it.
    const json = new Headers({ 'content-type': 'application/json' })
    expect(() => documentCheck?.check('GET', `/v1/datasets/${SEED.datasets.ready}/creation-status`, { status: 200, headers: json, body: { status: 'DONE', progress: 1 } }))
      .toThrow('GET /v1/datasets/b1a39406-123d-11f1-9353-fa39f6ed1f22/creation-status 200: data/status must be equal to one of the allowed values')
    expect(() => documentCheck?.check('GET', '/v1/tasks', { status: 418, headers: json, body: {} })).toThrow('GET /v1/tasks does not document status 418')
  })

  it('serves a reference page at /v1/docs from npm packages only, with its assets', async () => {
    const page = await fetch(`${gw.url}/v1/docs`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'")
    const html = await page.text()
    // The icon is an empty data: URL, so that the browser asks for no /favicon.ico (a 404).
    const urls = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]).filter((url) => url !== 'data:,')
    expect(html).toContain('<link rel="icon" href="data:,">')
    expect(urls).toEqual(['docs/swagger-ui.css', 'docs/swagger-ui-bundle.js', 'docs/start.js'])
    for (const url of urls) {
      const res = await fetch(`${gw.url}/v1/${String(url)}`)
      expect(res.status).toBe(200)
      expect((await res.text()).length).toBeGreaterThan(50)
    }
    expect(await (await fetch(`${gw.url}/v1/docs/start.js`)).text()).toContain('"/v1/openapi.json"')
    expect((await fetch(`${gw.url}/v1/docs/index.html`)).status).toBe(404)
  })

  it('lists datasets as the graph does, newest first, with one upstream call', async () => {
    const rest = await get('/v1/datasets')
    expect(rest.status).toBe(200)
    expect(rest.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(rest.headers.get('cache-control')).toBe('private, no-cache')
    expect(paths()).toEqual(['GET /api/v1/datasets'])
    const graph = await gw.gql(`{ datasets { ${DATASET_FIELDS} } }`)
    expect(rest.body.nodes.map(withoutSourceId)).toEqual((graph.body.data as any).datasets)
    expect(rest.body.nodes).toHaveLength(10)
    expect(rest.body.nodes.slice(0, 2).map((dataset: any) => dataset.id)).toEqual([SEED.datasets.indexing, SEED.datasets.draft])
  })

  it('embeds what ?include names, each read once, and agrees with the graph field by field', async () => {
    const rest = await get(`/v1/datasets/${SEED.datasets.enriched}?include=sourceDataset,creationStatus,models,enrichment`)
    expect(rest.status).toBe(200)
    expect(paths().sort()).toEqual([
      `GET /api/v1/dataset/${SEED.datasets.enrichedSource}`,
      `GET /api/v1/dataset/${SEED.datasets.enriched}`,
      `GET /api/v1/datasets/${SEED.datasets.enriched}/creation-status`,
      `GET /api/v1/enrichment/${SEED.datasets.enriched}/context`,
      `GET /api/v1/enrichment/${SEED.datasets.enriched}/list_models`
    ])
    expect(rest.body.sourceDatasetId).toBe(SEED.datasets.enrichedSource)
    expect(rest.body.sourceDataset.sourceDatasetId).toBe(null)
    expect(rest.body.enrichment).toEqual({
      id: SEED.enrichmentContexts.enriched,
      status: rest.body.enrichment.status,
      applied: [
        { type: 'CAPTION_IMAGES', modelId: rest.body.enrichment.applied[0].modelId },
        { type: 'OBJECT_DETECTION', modelId: rest.body.enrichment.applied[1].modelId }
      ]
    })
    const graph = await gw.gql(`query ($id: ID!) { dataset(id: $id) {
      ${DATASET_FIELDS} sourceDataset { ${DATASET_FIELDS} } creationStatus { status progress }
      models { ${MODEL_FIELDS} } enrichment { id status applied { type modelId } }
    } }`, { id: SEED.datasets.enriched })
    const { sourceDataset, ...dataset } = withoutSourceId(rest.body)
    expect({ ...dataset, sourceDataset: withoutSourceId(sourceDataset as Record<string, unknown>) }).toEqual((graph.body.data as any).dataset)
  })

  it('answers a dataset without include with its own fields only, from one upstream call', async () => {
    const rest = await get(`/v1/datasets/${SEED.datasets.ready}`)
    expect(rest.body).toEqual({
      id: SEED.datasets.ready,
      displayName: 'Product Images Q1',
      description: 'Catalog photos for the Q1 product launch',
      sourceType: 'BUCKET',
      ownedBy: 'VL',
      createdAt: '2026-01-20T08:47:55.439Z',
      status: 'READY',
      progress: 100,
      imageCount: 4812,
      videoCount: 0,
      objectCount: 0,
      errorMessage: null,
      isReady: true,
      sourceDatasetId: null
    })
    expect(paths()).toEqual([`GET /api/v1/dataset/${SEED.datasets.ready}`])
  })

  it('answers creation status and active models as the graph does', async () => {
    const status = await get(`/v1/datasets/${SEED.datasets.error}/creation-status`)
    expect(status.body).toEqual({ status: 'ERROR', progress: status.body.progress })
    const models = await get(`/v1/datasets/${SEED.datasets.ready}/models?active=true`)
    expect(paths()).toEqual([
      `GET /api/v1/datasets/${SEED.datasets.error}/creation-status`,
      `GET /api/v1/enrichment/${SEED.datasets.ready}/list_models`
    ])
    const graph = await gw.gql(`query ($a: ID!, $b: ID!) {
      a: dataset(id: $a) { creationStatus { status progress } } b: dataset(id: $b) { models(onlyActive: true) { ${MODEL_FIELDS} } }
    }`, { a: SEED.datasets.error, b: SEED.datasets.ready })
    const data = graph.body.data as any
    expect(status.body).toEqual(data.a.creationStatus)
    expect(models.body.nodes).toEqual(data.b.models)
    expect(models.body.nodes.every((model: any) => model.isActive === true)).toBe(true)
    expect(models.body.nodes.length).toBeGreaterThan(0)
  })

  it('pages tasks with totals in the body and RFC 8288 links, as the graph does', async () => {
    const rest = await get('/v1/tasks?status=FAILED&pageSize=5&page=2')
    expect(rest.status).toBe(200)
    expect(rest.headers.get('link')).toBe(
      '</v1/tasks?status=FAILED&pageSize=5&page=1>; rel="first", </v1/tasks?status=FAILED&pageSize=5&page=1>; rel="prev", ' +
      '</v1/tasks?status=FAILED&pageSize=5&page=2>; rel="last"'
    )
    expect({ ...rest.body, nodes: rest.body.nodes.length }).toEqual({ nodes: 5, total: 10, page: 2, pageSize: 5, hasNextPage: false })
    expect(gw.emulator.calls().map((call) => call.query)).toEqual([
      { task_status: 'FAILED', sort_by: 'start_time', sort_order: 'desc', page: '2', page_size: '5' }
    ])
    const graph = await gw.gql(`{ tasks(filter: { status: FAILED }, page: 2, pageSize: 5) { nodes { ${TASK_FIELDS} } total page pageSize hasNextPage } }`)
    expect(rest.body).toEqual((graph.body.data as any).tasks)
  })

  it('passes filters and order to Visual Layer, the times normalised to UTC', async () => {
    const rest = await get(`/v1/tasks?datasetId=${SEED.datasets.ready.toUpperCase()}&type=ENRICHMENT&orderBy=STATUS&direction=ASC` +
      '&startTimeFrom=2026-01-01&startTimeTo=2026-03-01T10:00:00%2B02:00&createdBy=dan.okafor%40acme.example&datasetName=Product%20Images%20Q1')
    expect(rest.status).toBe(200)
    expect(gw.emulator.calls().map((call) => call.query)).toEqual([{
      dataset_id: SEED.datasets.ready,
      dataset_name: 'Product Images Q1',
      task_type: 'ENRICHMENT',
      created_by: 'dan.okafor@acme.example',
      start_time_from: '2026-01-01T00:00:00Z',
      start_time_to: '2026-03-01T08:00:00Z',
      sort_by: 'status',
      sort_order: 'asc',
      page: '1',
      page_size: '20'
    }])
    expect(rest.headers.get('link')).toContain('rel="first"')
  })

  it('answers the task filter options as the graph does', async () => {
    const rest = await get('/v1/tasks/filter-options?startTimeFrom=2026-01-01')
    expect(gw.emulator.calls().map((call) => `${call.path} ${JSON.stringify(call.query)}`)).toEqual([
      '/api/v1/tasks/filters {"start_time_from":"2026-01-01T00:00:00Z"}'
    ])
    const graph = await gw.gql('{ taskFilterOptions(startTimeFrom: "2026-01-01") { datasetNames datasetIds taskTypes createdBy } }')
    expect(rest.body).toEqual((graph.body.data as any).taskFilterOptions)
  })

  it('answers 304 to If-None-Match with the current ETag, and 200 with another', async () => {
    const first = await get(`/v1/datasets/${SEED.datasets.ready}`)
    const etag = first.headers.get('etag')
    expect(etag).toMatch(/^"[\w-]{27}"$/)
    const again = await get(`/v1/datasets/${SEED.datasets.ready}`, { 'if-none-match': `W/"other", ${String(etag)}` })
    expect(again.status).toBe(304)
    expect(again.body).toBe(null)
    expect(again.headers.get('etag')).toBe(etag)
    expect(again.headers.get('cache-control')).toBe('private, no-cache')
    const changed = await get(`/v1/datasets/${SEED.datasets.ready}`, { 'if-none-match': '"other"' })
    expect(changed.status).toBe(200)
    expect(changed.body).toEqual(first.body)
  })

  it.each([
    ['/v1/datasets/not-an-id', 'Path parameter id must be a Visual Layer id (a UUID such as ad48d250-1232-11f1-bfca-fa39f6ed1f22).'],
    [`/v1/datasets/${SEED.datasets.ready}?include=models,owner`, 'Query parameter include names "owner"; it takes a comma-separated list of sourceDataset, creationStatus, models, enrichment.'],
    [`/v1/datasets/${SEED.datasets.ready}/models?active=yes`, 'Query parameter active must be true or false.'],
    ['/v1/datasets?page=2', 'Unknown query parameter "page".'],
    ['/v1/tasks?pageSize=4', 'Query parameter pageSize must be an integer from 5 to 50.'],
    ['/v1/tasks?pageSize=51', 'Query parameter pageSize must be an integer from 5 to 50.'],
    ['/v1/tasks?page=0', 'Query parameter page must be an integer of at least 1.'],
    ['/v1/tasks?page=1.5', 'Query parameter page must be an integer of at least 1.'],
    ['/v1/tasks?page=1&page=2', 'Query parameter page must be given once, as text.'],
    ['/v1/tasks?status=UNKNOWN', 'Query parameter status must be one of INITIALIZING, RUNNING, COMPLETED, FAILED, ABORTED.'],
    ['/v1/tasks?orderBy=start_time', 'Query parameter orderBy must be one of START_TIME, STATUS, TASK_TYPE, DATASET_NAME, DATASET_ID, CREATED_BY.'],
    ['/v1/tasks?datasetId=42', 'Query parameter datasetId must be a Visual Layer id (a UUID such as ad48d250-1232-11f1-bfca-fa39f6ed1f22).'],
    ['/v1/tasks?startTimeFrom=2026-02-30', 'Query parameter startTimeFrom is invalid: DateTime "2026-02-30" is not a real point in time.'],
    ['/v1/tasks?startTimeFrom=2026-03-02&startTimeTo=2026-03-01', 'filter.startTimeFrom (2026-03-02T00:00:00Z) is after filter.startTimeTo (2026-03-01T00:00:00Z).'],
    [`/v1/tasks?createdBy=${'x'.repeat(257)}`, 'Query parameter createdBy must be at most 256 characters long.'],
    ['/v1/tasks?sort=-startTime', 'Unknown query parameter "sort".']
  ])('refuses %s with 400 naming the parameter, before any upstream call', async (path, detail) => {
    const answer = await get(path)
    expect(answer.status).toBe(400)
    expect(answer.headers.get('content-type')).toBe('application/problem+json; charset=utf-8')
    expect(answer.body).toEqual(badInput(detail))
    expect(gw.emulator.calls()).toEqual([])
  })

  const post = async (path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> =>
    await request(gw, 'POST', path, {
      // JSON even without a body, as a client sends a write (a write without it is refused: test/transports/rest-csrf.test.ts).
      'x-request-id': REQUEST_ID, 'content-type': 'application/json', ...headers
    }, body === undefined ? undefined : JSON.stringify(body))
  const CAPTIONS = { type: 'CAPTION_IMAGES', modelId: 'vl_image_captioner_v00' }
  const DETECTION = { type: 'OBJECT_DETECTION', modelId: 'vl_object_detector_v00' }

  it('enriches with an Idempotency-Key: a repeat replays, another body is 422, concurrent duplicates make one POST upstream', async () => {
    const path = `/v1/datasets/${SEED.datasets.readySecond}/enrichments`
    const answers = await Promise.all([1, 2, 3].map(async () => await post(path, { models: [CAPTIONS] }, { 'idempotency-key': 'rest-enrich-1' })))
    const posts = (): string[] => gw.emulator.calls({ method: 'POST' }).map((call) => call.path)
    expect(posts()).toEqual([`/api/v1/dataset/${SEED.datasets.readySecond}/enrich_dataset`])
    const [first] = answers
    const enrichedId = first?.body.enrichedDatasetId as string
    expect(enrichedId).toMatch(/^[0-9a-f-]{36}$/)
    for (const answer of answers) {
      expect(answer.status).toBe(202)
      expect(answer.headers.get('location')).toBe(`/v1/datasets/${enrichedId}`)
      expect(answer.body).toEqual({ enrichedDatasetId: enrichedId, sourceDatasetId: SEED.datasets.readySecond })
    }
    const replay = await post(path, { models: [CAPTIONS] }, { 'idempotency-key': 'rest-enrich-1' })
    expect(replay.body).toEqual({ enrichedDatasetId: enrichedId, sourceDatasetId: SEED.datasets.readySecond })
    const other = await post(path, { models: [DETECTION] }, { 'idempotency-key': 'rest-enrich-1' })
    expect(other.status).toBe(422)
    expect(other.body).toEqual({
      type: 'urn:vl-gateway:problem:idempotency-key-reused',
      title: 'Idempotency-Key reused',
      status: 422,
      detail: 'Idempotency-Key "rest-enrich-1" was already used for another enrichment request (another dataset or other models); use a new key for a new request. Nothing was sent to Visual Layer.',
      code: 'BAD_USER_INPUT',
      requestId: REQUEST_ID
    })
    expect(posts()).toHaveLength(1)
    // The source is READ_ONLY while its copy is built: a new request is refused before any write.
    const conflict = await post(path, { models: [DETECTION] })
    expect(conflict.status).toBe(409)
    expect(conflict.body.code).toBe('CONFLICT')
    expect(posts()).toHaveLength(1)
  })

  it.each([
    [{ models: [] }, {}, 'Body field models is empty: name at least one model as {type, modelId}; GET /v1/datasets/{id}/models lists the ones that can be applied.'],
    [{ models: [{ type: 1, modelId: 'x' }] }, {}, 'Body field models[0].type must be of type string.'],
    [{ models: [{ ...CAPTIONS, extra: true }] }, {}, 'Unknown body field "extra" in models.0.'],
    [{}, {}, 'Body field models must be a list of {type, modelId}.'],
    [undefined, {}, 'The body must be a JSON object such as {"models": [{"type": "CAPTION_IMAGES", "modelId": "..."}]}.'],
    [{ models: [CAPTIONS] }, { 'idempotency-key': 'k'.repeat(256) }, 'Header Idempotency-Key must be 1 to 255 characters long.'],
    [{ models: [CAPTIONS, { type: 'CAPTION_IMAGES', modelId: 'vl_image_captioner_v01' }] }, {},
      `Dataset ${SEED.datasets.ready} was not enriched, and nothing was sent to Visual Layer: the request has 2 problems. ` +
      '(1) models[0] and models[1] both give type CAPTION_IMAGES: name one model per enrichment type. ' +
      '(2) models[1]: model "vl_image_captioner_v01" is not in this dataset\'s model list; Dataset.models lists the ones that can be applied.']
  ])('refuses the enrichment %j with 400 naming the problem, without a write', async (body, headers, detail) => {
    const answer = await post(`/v1/datasets/${SEED.datasets.ready}/enrichments`, body, headers)
    expect(answer.body).toEqual(badInput(detail))
    expect(gw.emulator.calls({ method: 'POST' })).toEqual([])
  })

  it('retries a failed task and refuses to abort a completed one, each with one POST upstream', async () => {
    const retried = await post(`/v1/tasks/${SEED.tasks.errorCreation}/retry`)
    expect(retried.status).toBe(200)
    expect(retried.body).toEqual({
      id: SEED.tasks.errorCreation,
      type: 'DATASET_CREATION',
      status: 'INITIALIZING',
      statusMessage: 'Preparing dataset creation',
      progress: 0,
      errorMessage: null,
      createdBy: 'rachel@acme.example',
      startTime: retried.body.startTime,
      endTime: null,
      datasetId: SEED.datasets.error,
      datasetName: 'Medical Scans Batch 7',
      datasetStatus: 'DRAFT',
      canAbort: true,
      canRetry: false
    })
    const refused = await post(`/v1/tasks/${SEED.tasks.readyCreation}/abort`)
    expect(refused.status).toBe(409)
    expect(refused.body).toEqual({
      type: 'urn:vl-gateway:problem:conflict',
      title: 'Conflict',
      status: 409,
      detail: `Task ${SEED.tasks.readyCreation} cannot be aborted now; Visual Layer says: Task is already COMPLETED and cannot be aborted. ` +
        'Abort works only on a DATASET_CREATION task that is INITIALIZING, or RUNNING before its final commit phase; Task.canAbort tells in advance.',
      code: 'CONFLICT',
      requestId: REQUEST_ID
    })
    expect(gw.emulator.calls({ method: 'POST' }).map((call) => call.path)).toEqual([
      `/api/v1/tasks/${SEED.tasks.errorCreation}/retry`,
      `/api/v1/tasks/${SEED.tasks.readyCreation}/abort`
    ])
    const bad = await post('/v1/tasks/42/abort')
    expect(bad.body).toEqual(badInput('Path parameter id must be a Visual Layer id (a UUID such as ad48d250-1232-11f1-bfca-fa39f6ed1f22).'))
    expect(gw.emulator.calls({ method: 'POST' })).toHaveLength(2)
  })

  it('answers 404 problems for a dataset one may not see and for an unknown route', async () => {
    const missing = await get(`/v1/datasets/${SEED.datasets.secondaryReady}`)
    expect(missing.status).toBe(404)
    expect(missing.body).toEqual({
      type: 'urn:vl-gateway:problem:not-found',
      title: 'Not found',
      status: 404,
      detail: `Dataset ${SEED.datasets.secondaryReady} does not exist, or you may not see it.`,
      code: 'NOT_FOUND',
      requestId: REQUEST_ID
    })
    const route = await get('/v1/dataset')
    expect(route.status).toBe(404)
    expect(route.body.detail).toBe('No resource at GET /v1/dataset: see GET /v1/openapi.json for the routes.')
    expect(paths()).toEqual([`GET /api/v1/dataset/${SEED.datasets.secondaryReady}`])
  })

  it('counts its requests by route and status, and its operations by operationId and outcome, in the metrics', async () => {
    await get(`/v1/datasets/${SEED.datasets.ready}/models?active=maybe`)
    const requests = await gw.app.metrics.httpServerDuration.get()
    const count = (route: string, status: string): number | undefined => requests.values.find((value) =>
      value.metricName === 'http_server_request_duration_seconds_count' && value.labels.http_route === route && value.labels.http_response_status_code === status
    )?.value
    expect([count('/v1/datasets', '200'), count('/v1/datasets/:id/models', '400'), count('/v1/datasets/:id', '304'), count('/v1/datasets/:id', '404')]).toEqual([1, 2, 1, 1])
    const operations = await gw.app.metrics.operations.get()
    const outcome = (name: string, outcome: string): number | undefined => operations.values.find((value) =>
      value.labels.transport === 'rest' && value.labels.operation_type === 'query' && value.labels.operation_name === name && value.labels.outcome === outcome
    )?.value
    expect([outcome('listDatasets', 'ok'), outcome('listDatasetModels', 'BAD_USER_INPUT'), outcome('getDataset', 'NOT_FOUND')]).toEqual([1, 2, 1])
  })

  it('logged nothing at error level for any of the client mistakes above', () => {
    expect(gw.logs.entries().filter((entry) => Number(entry.level) >= 50)).toEqual([])
  })

  it('answers Visual Layer failures as problems without internals: 503, 502 for an unreadable answer', async () => {
    gw.emulator.injectFault({ path: '/api/v1/tasks', status: 503, body: { detail: 'maintenance' } })
    const unavailable = await get('/v1/tasks')
    expect(unavailable.status).toBe(503)
    expect(unavailable.body).toEqual({
      type: 'urn:vl-gateway:problem:upstream-unavailable',
      title: 'Visual Layer is unavailable',
      status: 503,
      detail: 'Visual Layer is unavailable (HTTP 503) while reading the task list; try again shortly.',
      code: 'UPSTREAM_UNAVAILABLE',
      requestId: REQUEST_ID
    })
    gw.emulator.injectFault({ path: '/api/v1/tasks/filters', status: 200, body: '<html>proxy</html>' })
    const unreadable = await get('/v1/tasks/filter-options')
    expect(unreadable.status).toBe(502)
    expect(unreadable.body.code).toBe('UPSTREAM_CONTRACT')
    expect(JSON.stringify(unreadable.body)).not.toContain('proxy')
    expect((await get(`/v1/datasets/${SEED.datasets.ready}`)).status).toBe(200)
  })
})

describe.each(AUTH_MODES.filter((mode) => mode !== 'none'))('REST /v1 in AUTH_MODE=%s', (mode) => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startModeGateway(mode) })
  afterAll(async () => { await gw.close() })

  it('refuses a request without a Bearer token with a 401 problem, and serves one with a token', async () => {
    gw.emulator.clearCalls()
    const refused = await request(gw, 'GET', '/v1/tasks/filter-options', { 'x-request-id': 'no-token' })
    expect(refused.status).toBe(401)
    expect(refused.headers.get('www-authenticate')).toBe('Bearer')
    const problem = refused.body as Record<string, unknown>
    // The document and its page are public (INTROSPECTION is on in tests), as GraphQL's schema is; a bad token is still refused.
    expect((await request(gw, 'GET', '/v1/openapi.json')).status).toBe(200)
    expect((await request(gw, 'GET', '/v1/openapi.json', { authorization: 'Bearer nope' })).status).toBe(401)
    const docs = await fetch(`${gw.url}/v1/docs`)
    expect(docs.status).toBe(200)
    expect({ ...problem, detail: typeof problem.detail }).toEqual({
      type: 'urn:vl-gateway:problem:unauthenticated', title: 'Not authenticated', status: 401, detail: 'string', code: 'UNAUTHENTICATED', requestId: 'no-token'
    })
    expect(gw.emulator.calls()).toEqual([])
    const served = await request(gw, 'GET', `/v1/datasets/${SEED.datasets.ready}`, { authorization: `Bearer ${String(freshToken(mode))}` })
    expect(served.status).toBe(200)
    expect((served.body as { id: string }).id).toBe(SEED.datasets.ready)
  })

  it('ends a followed event stream with an UNAUTHENTICATED problem when the token expires', async () => {
    const res = await fetch(`${gw.url}/v1/datasets/${SEED.datasets.ready}/events?follow=true`, {
      headers: { authorization: `Bearer ${String(freshToken(mode, { ttlSec: 2 }))}`, 'x-request-id': 'expiring' }
    })
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(text.split('\n\n').filter((frame) => frame !== '').map((frame) => /^event: (\w+)$/m.exec(frame)?.[1])).toEqual(['status', 'problem'])
    expect(JSON.parse(/^data: (.+)$/m.exec(text.slice(text.indexOf('event: problem')))?.[1] ?? '')).toEqual({
      type: 'urn:vl-gateway:problem:unauthenticated',
      title: 'Not authenticated',
      status: 401,
      detail: 'The token expired: reconnect with a fresh one (send Last-Event-ID to skip the state already seen).',
      code: 'UNAUTHENTICATED',
      requestId: 'expiring'
    })
  })
})

describe('REST /v1 rate limit', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startModeGateway('none', { RATE_LIMIT_PER_MINUTE: '2' }) })
  afterAll(async () => { await gw.close() })

  it('allows RATE_LIMIT_PER_MINUTE requests a caller, then answers a 429 problem with Retry-After', async () => {
    const statuses = []
    for (let i = 0; i < 2; i++) statuses.push((await request(gw, 'GET', `/v1/datasets/${SEED.datasets.ready}`)).status)
    expect(statuses).toEqual([200, 200])
    gw.emulator.clearCalls()
    const refused = await request(gw, 'GET', `/v1/datasets/${SEED.datasets.ready}`, { 'x-request-id': 'limited' })
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(55)
    expect(refused.body).toEqual({
      type: 'urn:vl-gateway:problem:rate-limited',
      title: 'Too many requests',
      status: 429,
      detail: `Too many requests: at most 2 a minute for each caller. Try again in ${tryAgainIn(refused.headers.get('retry-after'))}.`,
      code: 'RATE_LIMITED',
      requestId: 'limited'
    })
    expect(gw.emulator.calls()).toEqual([])
  })
})

/** Reads an event stream until `until` matches what arrived (or the stream ends). */
async function readStream (reader: ReadableStreamDefaultReader<Uint8Array>, until: (text: string) => boolean): Promise<string> {
  const decoder = new TextDecoder()
  let text = ''
  while (!until(text)) {
    const { value, done } = await reader.read()
    if (done) break
    text += decoder.decode(value, { stream: true })
  }
  return text
}

const statusFrame = (body: unknown): string => {
  const data = JSON.stringify(body)
  return `id: ${createHash('sha256').update(data).digest('base64url').slice(0, 27)}\nevent: status\ndata: ${data}\n\n`
}

describe.each([
  ['polled every 250 ms', '250'],
  ['polled once a minute', '60000']
])('REST /v1 dataset events, %s', (_name, interval) => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startModeGateway('none', { POLL_INTERVAL_MS: interval }) })
  afterAll(async () => { await gw.close() })
  beforeEach(() => { gw.emulator.clearCalls() })
  /** `it` in the suite of that interval only; in the other the case is not defined at all (not shown as skipped). */
  const at = (only: string): typeof it => interval === only ? it : (() => {}) as unknown as typeof it

  const open = async (id: string, query = '', headers: Record<string, string> = {}): Promise<ReadableStreamDefaultReader<Uint8Array>> => {
    const res = await fetch(`${gw.url}/v1/datasets/${id}/events${query}`, { headers })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(res.headers.get('cache-control')).toBe('no-store')
    const reader = res.body?.getReader()
    if (reader === undefined) throw new Error('no body')
    return reader
  }

  at('250')('streams the status until READY, then completes and ends', async () => {
    const before = await request(gw, 'GET', `/v1/datasets/${SEED.datasets.indexing}`)
    const reader = await open(SEED.datasets.indexing)
    const first = await readStream(reader, (text) => text.includes('\n\n'))
    expect(first).toBe(statusFrame(before.body))
    gw.emulator.advance(31_000)
    const rest = await readStream(reader, () => false)
    expect(rest).toBe(statusFrame({ ...before.body, status: 'READY', progress: 100, isReady: true }) + 'event: complete\ndata: {}\n\n')
  })

  at('250')('does not send again the state named by Last-Event-ID', async () => {
    const reader = await open(SEED.datasets.ready)
    const all = await readStream(reader, () => false)
    const id = /^id: (.+)$/m.exec(all)?.[1] ?? ''
    expect(all).toBe(`id: ${id}\nevent: status\ndata: ${/^data: (.+)$/m.exec(all)?.[1] ?? ''}\n\nevent: complete\ndata: {}\n\n`)
    const again = await open(SEED.datasets.ready, '', { 'last-event-id': id })
    expect(await readStream(again, () => false)).toBe('event: complete\ndata: {}\n\n')
  })

  at('60000')('rides one shared poller however many streams watch: a second stream costs no upstream call', async () => {
    const first = await open(SEED.datasets.draft, '?follow=true')
    const a = await readStream(first, (text) => text.includes('\n\n'))
    expect(gw.emulator.calls().map((call) => call.path)).toEqual([`/api/v1/dataset/${SEED.datasets.draft}`])
    const second = await open(SEED.datasets.draft, '?follow=true')
    expect(await readStream(second, (text) => text.includes('\n\n'))).toBe(a)
    expect(gw.emulator.calls()).toHaveLength(1)
    await first.cancel()
    await second.cancel()
  })

  at('60000')('answers problems before the stream opens: 404 for a dataset one may not see, 400 for a bad parameter', async () => {
    const missing = await request(gw, 'GET', `/v1/datasets/${SEED.datasets.secondaryReady}/events`, { 'x-request-id': 'events-404' })
    expect(missing.status).toBe(404)
    expect(missing.body).toEqual({
      type: 'urn:vl-gateway:problem:not-found',
      title: 'Not found',
      status: 404,
      detail: `Visual Layer has no dataset ${SEED.datasets.secondaryReady}, or you may not see it.`,
      code: 'NOT_FOUND',
      requestId: 'events-404'
    })
    const bad = await request(gw, 'GET', `/v1/datasets/${SEED.datasets.ready}/events?follow=1`, { 'x-request-id': 'events-400' })
    expect(bad.body.detail).toBe('Query parameter follow must be true or false.')
    expect(gw.emulator.calls().map((call) => call.path)).toEqual([`/api/v1/dataset/${SEED.datasets.secondaryReady}`])
  })
})
