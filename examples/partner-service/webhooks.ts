import { once } from 'node:events'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import createClient from 'openapi-fetch'
import { Webhook } from 'standardwebhooks'
import type { paths } from './api.js'
import { ProblemError, type PartnerOptions, type Problem } from './partner.js'

/*
 * A partner service told of an enrichment instead of asking: it listens on a port of its own,
 * registers a webhook on the gateway for a dataset (typed client from the OpenAPI document), enriches
 * the dataset, and verifies every delivery with standardwebhooks (the Standard Webhooks library any
 * partner would use) before printing it, until enrichment.completed and the end of the enrichment task (events of different resources keep no order between them); then it deletes the webhook. The
 * gateway must be in jwt or none mode, and may POST to this address (WEBHOOKS_ALLOW_PRIVATE_TARGETS
 * for 127.0.0.1 on one machine).
 */

export interface ReceivedEvent {
  id: string
  type: string
  /** The dataset or task the event is about, and its status. */
  about: string
}

export interface WebhookRunOptions extends PartnerOptions {
  /** Where this service listens (127.0.0.1:0 by default: any free port). */
  host?: string
  port?: number
  /** Called with each verified event, as it arrives. */
  onEvent?: (event: ReceivedEvent) => void
}

async function bodyOf (req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function describe (type: string, data: Record<string, any>): string {
  if (data.task !== undefined) return `task ${String(data.task.id)} (${String(data.task.type)}) ${String(data.task.status)}`
  if (data.dataset !== undefined) {
    const change = type === 'dataset.status_changed' ? `${String(data.previousStatus ?? '(new)')} -> ` : ''
    return `dataset ${String(data.dataset.id)} ${change}${String(data.dataset.status)}`
  }
  return JSON.stringify(data)
}

export async function receiveEnrichmentEvents (options: WebhookRunOptions, sourceDatasetId: string): Promise<ReceivedEvent[]> {
  const headers: Record<string, string> = options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }
  const client = createClient<paths>({ baseUrl: options.baseUrl, headers })
  const step = options.onStep ?? (() => {})
  const events: ReceivedEvent[] = []
  const seen = new Set<string>()
  let verifier: Webhook | null = null
  let done: () => void = () => {}
  let copyReady = false
  let taskEnded = false
  const completed = new Promise<void>((resolve) => { done = resolve })

  const server = createServer((req, res) => {
    void bodyOf(req).then((body) => {
      let event: { id: string, type: string, data: Record<string, any> }
      try {
        if (verifier === null) throw new Error('no secret yet')
        event = verifier.verify(body, req.headers as Record<string, string>) as typeof event
      } catch (err) {
        step(`refused a delivery: ${(err as Error).message}`)
        res.writeHead(400).end()
        return
      }
      res.writeHead(204).end()
      // At least once: a retried delivery has the webhook-id already seen.
      if (seen.has(event.id)) return
      seen.add(event.id)
      const received = { id: event.id, type: event.type, about: describe(event.type, event.data) }
      events.push(received)
      step(`verified ${received.type}: ${received.about}`)
      options.onEvent?.(received)
      // Events of different resources keep no order between them: the copy may be READY before the
      // source's task list shows its enrichment task finished. Done once both have arrived.
      if (event.type === 'enrichment.completed') copyReady = true
      if (event.type === 'task.completed' || event.type === 'task.failed') taskEnded = true
      if (copyReady && taskEnded) done()
    })
  })
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1')
  await once(server, 'listening')
  const { address, port } = server.address() as AddressInfo
  const url = `http://${address}:${port}/webhooks`
  step(`listening on ${url}`)
  let webhookId: string | null = null
  try {
    const created = await client.POST('/v1/webhooks', {
      body: {
        url,
        events: ['dataset.status_changed', 'dataset.ready', 'dataset.error', 'enrichment.completed', 'task.completed', 'task.failed'],
        datasetIds: [sourceDatasetId]
      }
    })
    if (created.error !== undefined) throw new ProblemError(created.error as Problem)
    webhookId = created.data.id
    verifier = new Webhook(created.data.secret)
    step(`POST /v1/webhooks: ${created.data.id}, kept in ${created.data.storage}`)
    const enrichment = await client.POST('/v1/datasets/{id}/enrichments', {
      params: { path: { id: sourceDatasetId } },
      body: { models: [{ type: 'CAPTION_IMAGES', modelId: 'vl_image_captioner_v00' }] }
    })
    if (enrichment.error !== undefined) throw new ProblemError(enrichment.error as Problem)
    step(`POST /v1/datasets/${sourceDatasetId}/enrichments: the enriched copy is ${enrichment.data.enrichedDatasetId}`)
    await completed
    return events
  } finally {
    if (webhookId !== null) {
      await client.DELETE('/v1/webhooks/{id}', { params: { path: { id: webhookId } }, headers: { 'content-type': 'application/json' } })
      step(`DELETE /v1/webhooks/${webhookId}`)
    }
    server.closeAllConnections()
    server.close()
  }
}

// By hand, against a running gateway in jwt or none mode that may POST to 127.0.0.1
// (WEBHOOKS_ALLOW_PRIVATE_TARGETS=127.0.0.1), on the embedded emulator's READY dataset:
//   npx tsx examples/partner-service/webhooks.ts [baseUrl] [token] [datasetId]
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [baseUrl = 'http://127.0.0.1:4000', token, datasetId = 'b1a39406-123d-11f1-9353-fa39f6ed1f22'] = process.argv.slice(2)
  const say = (line: string): void => { process.stdout.write(`${line}\n`) }
  try {
    const events = await receiveEnrichmentEvents({ baseUrl, token: token === '' ? undefined : token, onStep: say }, datasetId)
    say(`done: ${events.length} events, each verified`)
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = 1
  }
}
