import { Client, fetchExchange, makeOperation, mapExchange, subscriptionExchange, type Operation, type OperationResult } from '@urql/core'
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import { DashboardQuery, DatasetStatusSubscription, DatasetWithModelsQuery, EnrichDatasetMutation, TaskManagerQuery } from './documents.js'
import type {
  DashboardQuery as Dashboard, DatasetStatusSubscription as DatasetStatus, DatasetWithModelsQuery as DatasetWithModels,
  EnrichDatasetMutation as Enrichment, TaskManagerQuery as TaskManager
} from './gql/graphql.js'

/*
 * A frontend's data layer against the gateway: urql for queries and mutations over HTTP, graphql-ws
 * for the subscription, every document typed by GraphQL Code Generator's client preset
 * (documents.ts, gql/). Each generated document carries its sha256 id, and the client sends that
 * `documentId` instead of the text: the gateway runs the text of its trusted documents manifest
 * (gql/persisted-documents.json, loaded with TRUSTED_DOCUMENTS). It runs the example operations of docs/graphql.md:
 * the dashboard, one dataset with its models, the task manager, an enrichment, and the enriched
 * copy's live status followed until it is READY.
 */

export interface FrontendOptions {
  /** The gateway's base URL, e.g. http://127.0.0.1:4000. */
  baseUrl: string
  /** The Bearer token, when the gateway's AUTH_MODE needs one. */
  token?: string
  /** Queries over GET (mutations stay POSTs), as a CDN in front of the gateway would cache them. */
  preferGetMethod?: boolean
  /** Called with each status event of the followed dataset. */
  onStatus?: (status: DatasetStatus['datasetStatusChanged']) => void
}

export interface FrontendReport {
  dashboard: Dashboard
  dataset: DatasetWithModels
  taskManager: TaskManager
  enrichment: Enrichment
  /** The enriched copy's statuses, as its subscription told them. */
  statuses: Array<DatasetStatus['datasetStatusChanged']>
}

/**
 * Sends each document by its id: the client preset's documents carry it (`__meta__.documentId`), and
 * urql sends a `documentId` instead of the text for a document that has one and no definitions.
 * Done at the last moment, so that the rest of the client still sees the whole typed document.
 */
const byId = mapExchange({
  onOperation: (operation) => {
    const documentId = (operation.query as { __meta__?: { documentId?: string } }).__meta__?.documentId
    if (documentId === undefined || operation.kind === 'teardown') return operation
    const query = { kind: 'Document', definitions: [], documentId } as unknown as Operation['query']
    return makeOperation(operation.kind, { ...operation, query }, operation.context)
  }
})

/** The data of a result, or its first error thrown with its code. */
function dataOf<T> (result: OperationResult<T>): T {
  const error = result.error?.graphQLErrors[0] ?? result.error
  if (error !== undefined) throw new Error(`${String((error as { extensions?: { code?: unknown } }).extensions?.code ?? 'NETWORK')}: ${error.message}`)
  if (result.data === undefined) throw new Error('no data')
  return result.data
}

export function createFrontendClient (options: FrontendOptions): { client: Client, ws: WsClient } {
  const authorization: Record<string, string> = options.token === undefined ? {} : { Authorization: `Bearer ${options.token}` }
  const ws = createWsClient({
    url: `${options.baseUrl.replace(/^http/, 'ws')}/graphql`,
    // Browsers have WebSocket; Node 20 takes the ws package's.
    webSocketImpl: WebSocket,
    connectionParams: authorization,
    retryAttempts: 0
  })
  const client = new Client({
    url: `${options.baseUrl}/graphql`,
    preferGetMethod: options.preferGetMethod === true ? 'force' : false,
    // A GET must show it is not a cross-site form (the gateway's CSRF prevention): a token does, or this header.
    fetchOptions: { headers: { ...authorization, 'graphql-preflight': '1' } },
    requestPolicy: 'network-only',
    exchanges: [
      byId,
      fetchExchange,
      subscriptionExchange({
        // graphql-ws requires a "query" string: "" beside the documentId.
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) })
        })
      })
    ]
  })
  return { client, ws }
}

export async function runFrontend (options: FrontendOptions, datasetId: string, idempotencyKey: string): Promise<FrontendReport> {
  const { client, ws } = createFrontendClient(options)
  try {
    const dashboard = dataOf(await client.query(DashboardQuery, {}).toPromise())
    const dataset = dataOf(await client.query(DatasetWithModelsQuery, { id: datasetId }).toPromise())
    const taskManager = dataOf(await client.query(TaskManagerQuery, {}).toPromise())
    const enrichment = dataOf(await client.mutation(EnrichDatasetMutation, {
      datasetId,
      models: [{ type: 'CAPTION_IMAGES', modelId: 'vl_image_captioner_v00' }],
      idempotencyKey
    }).toPromise())
    const statuses = await followUntilSettled(client, enrichment.enrichDataset.enrichedDatasetId, options.onStatus)
    return { dashboard, dataset, taskManager, enrichment, statuses }
  } finally {
    await ws.dispose()
  }
}

/** The dataset's status now and at each change, until READY or ERROR (when the gateway completes the subscription). */
async function followUntilSettled (client: Client, datasetId: string, onStatus: FrontendOptions['onStatus']): Promise<FrontendReport['statuses']> {
  const statuses: FrontendReport['statuses'] = []
  return await new Promise((resolve, reject) => {
    const { unsubscribe } = client.subscription(DatasetStatusSubscription, { datasetId }).subscribe((result) => {
      try {
        const status = dataOf(result).datasetStatusChanged
        statuses.push(status)
        onStatus?.(status)
        if (status.status !== 'READY' && status.status !== 'ERROR') return
        resolve(statuses)
      } catch (err) {
        reject(err)
      }
      queueMicrotask(() => { unsubscribe() })
    })
  })
}

// `npx tsx examples/frontend/client.ts [baseUrl] [token]`, against a gateway started with
// TRUSTED_DOCUMENTS=examples/frontend/gql/persisted-documents.json: enriches the seeded READY dataset.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [baseUrl = 'http://127.0.0.1:4000', token] = process.argv.slice(2)
  const onStatus: FrontendOptions['onStatus'] = (status) => { process.stdout.write(`enriched copy: ${status.status} ${status.progress}%\n`) }
  const report = await runFrontend({ baseUrl, token, onStatus }, 'b1a39406-123d-11f1-9353-fa39f6ed1f22', `example-${Date.now()}`)
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
}
