import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createInterface } from 'node:readline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateTypes, TYPES_FILE } from '../../examples/partner-service/generate.js'
import { followUntilSettled, runPartner, type Dataset } from '../../examples/partner-service/partner.js'
import { receiveEnrichmentEvents } from '../../examples/partner-service/webhooks.js'
import { SEED } from '../../src/emulator/index.js'
import type { TestGateway } from '../helpers/gateway.js'
import { freshToken, startModeGateway } from '../helpers/modes.js'

/**
 * The example partner service (examples/partner-service) against the gateway on the emulator, in
 * jwt mode: its generated types are what the document generates today, and its run lists failed
 * tasks, retries one, enriches with an idempotency key and follows the copy to READY; run again
 * with the same key, it gets the same copy and Visual Layer no second enrichment. Run by hand (its
 * command line), it prints each step. Its event-stream reader takes Server-Sent Events as the format
 * has them, whatever the gateway's own framing: data over several lines, comments, CRLF, chunks cut
 * anywhere.
 */

describe('examples/partner-service', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startModeGateway('jwt', { POLL_INTERVAL_MS: '250' }) })
  afterAll(async () => { await gw.close() })

  it('has the types the OpenAPI document generates today (regenerate with examples/partner-service/generate.ts)', async () => {
    const document = await (await fetch(`${gw.url}/v1/openapi.json`)).json() as Record<string, unknown>
    expect(await generateTypes(document)).toBe(await readFile(TYPES_FILE, 'utf8'))
  })

  it('lists failed tasks, retries one, enriches with an idempotency key and follows the copy to READY', async () => {
    const token = freshToken('jwt') ?? ''
    gw.emulator.clearCalls()
    const options = {
      baseUrl: gw.url,
      token,
      // The emulator's clock stands still: once the copy's first status arrived, its build finishes.
      onStatus: (dataset: { status: string }) => { if (dataset.status !== 'READY') gw.emulator.advance(3_600_000) }
    }
    const first = await runPartner(options, SEED.datasets.ready, 'partner-run-1')
    expect(first.failedTasks.map((task) => task.id)).toEqual([SEED.tasks.errorCreation])
    expect(first.retried).toEqual({ ...first.retried, id: SEED.tasks.errorCreation, status: 'INITIALIZING', canRetry: false })
    expect(first.statuses.at(-1)).toBe('READY')
    expect(first.statuses.slice(0, -1).every((status) => status !== 'READY' && status !== 'ERROR')).toBe(true)
    const writes = (): string[] => gw.emulator.calls({ method: 'POST' }).map((call) => call.path)
    expect(writes()).toEqual([`/api/v1/tasks/${SEED.tasks.errorCreation}/retry`, `/api/v1/dataset/${SEED.datasets.ready}/enrich_dataset`])

    const again = await runPartner(options, SEED.datasets.ready, 'partner-run-1')
    expect(again).toEqual({ failedTasks: [], retried: null, enrichedDatasetId: first.enrichedDatasetId, statuses: ['READY'] })
    expect(writes()).toHaveLength(2)
  })
})

describe('examples/partner-service webhooks (examples/partner-service/webhooks.ts)', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startModeGateway('jwt', { POLL_INTERVAL_MS: '250', WEBHOOKS_ALLOW_PRIVATE_TARGETS: '127.0.0.1' }) })
  afterAll(async () => { await gw.close() })

  it('registers a webhook, receives the events of an enrichment verified with standardwebhooks, prints them, and deletes it', async () => {
    const lines: string[] = []
    let advanced = false
    const events = await receiveEnrichmentEvents({
      baseUrl: gw.url,
      token: freshToken('jwt') ?? '',
      onStep: (line) => { lines.push(line) },
      // The emulator's clock stands still: once the copy's first status arrived, its build finishes.
      onEvent: (event) => {
        if (!advanced && event.about.includes('(new) ->')) {
          advanced = true
          gw.emulator.advance(3_600_000)
        }
      }
    }, SEED.datasets.ready)
    expect(events.filter((event) => event.type === 'enrichment.completed')).toHaveLength(1)
    expect(events.map((event) => event.type)).toContain('task.completed')
    expect(new Set(events.map((event) => event.id)).size).toBe(events.length)
    expect(lines.filter((line) => line.startsWith('refused'))).toEqual([])
    expect(lines.filter((line) => line.startsWith('verified'))).toHaveLength(events.length)
    expect(lines.at(-1)).toMatch(/^DELETE \/v1\/webhooks\/wh_[0-9a-f]{32}$/)
    expect((await gw.app.webhooks?.list('jwt:viewer'))?.length).toBe(0)
  })
})

describe('examples/partner-service by hand (npx tsx examples/partner-service/partner.ts <baseUrl>), on a gateway as npm start runs it (AUTH_MODE=none)', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startModeGateway('none', { POLL_INTERVAL_MS: '250' }) })
  afterAll(async () => { await gw.close() })

  it('prints each step and what the gateway answered, and exits 0 once the copy is READY', async () => {
    // No token: the bodiless retry must still show it is no cross-site form (its JSON content type).
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/partner-service/partner.ts', gw.url], {
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const lines: string[] = []
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line)
      // The emulator's clock stands still: once the copy's first status arrived, its build finishes.
      if (/\/events: DRAFT 0%$/.test(line)) gw.emulator.advance(3_600_000)
    })
    const [code] = await once(child, 'exit') as [number | null]
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
    const copy = /the enriched copy is (\S+)$/.exec(lines[3] ?? '')?.[1] ?? ''
    expect(lines.map((line) => line.replace(/partner-\d+/, 'partner-<time>'))).toEqual([
      'GET /v1/tasks?status=FAILED&type=DATASET_CREATION: 1 failed dataset-creation task(s)',
      `  ${SEED.tasks.errorCreation} (Medical Scans Batch 7), can be retried`,
      `POST /v1/tasks/${SEED.tasks.errorCreation}/retry: the task is INITIALIZING`,
      `POST /v1/datasets/${SEED.datasets.ready}/enrichments (Idempotency-Key: partner-<time>): the enriched copy is ${copy}`,
      `GET /v1/datasets/${copy}/events: DRAFT 0%`,
      `GET /v1/datasets/${copy}/events: READY 100%`,
      `GET /v1/datasets/${copy}/events: complete`,
      `done: ${copy} is READY`
    ])
  }, 30_000)
})

describe("examples/partner-service's event-stream reader", () => {
  let server: Server
  let baseUrl: string
  /** The chunks the next GET /v1/datasets/{id}/events answers, written one at a time. */
  let chunks: string[] = []
  beforeAll(async () => {
    server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' })
      const write = (rest: string[]): void => {
        if (rest.length === 0) { res.end(); return }
        // Each chunk leaves in a write of its own, after the previous one was flushed.
        res.write(rest[0], () => { setImmediate(() => { write(rest.slice(1)) }) })
      }
      write(chunks)
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => { server.close(); await once(server, 'close') })

  it('reads an event whose data is on several data: lines, with comments, CRLF and chunks cut mid-line', async () => {
    const indexing = { id: 'ds-1', displayName: 'Multi-line', status: 'INDEXING', progress: 40 }
    const ready = { ...indexing, status: 'READY', progress: 100 }
    // The dataset's JSON pretty-printed: one data: line per line of it, joined again with "\n".
    const multiLine = (value: object): string => JSON.stringify(value, null, 2).split('\n').map((line) => `data: ${line}`).join('\r\n')
    const stream = [
      ': the stream opens\r\n\r\n',
      `id: "etag-1"\r\nevent: status\r\n${multiLine(indexing)}\r\n\r\n`,
      'retry: 1000\n\n',
      `event: status\n${multiLine(ready).replaceAll('\r\n', '\n')}\n\n`,
      'event: complete\ndata: {}\n\n'
    ].join('')
    // Cut every 7 characters: mid-field, mid-line, between \r and \n.
    chunks = stream.match(/[\s\S]{1,7}/g) ?? []
    expect(stream).toContain('data: {\r\ndata:   "id": "ds-1",\r\n')
    expect(chunks.filter((chunk, i) => chunk.endsWith('\r') && chunks[i + 1]?.startsWith('\n') === true).length).toBeGreaterThan(0)
    const seen: Dataset[] = []
    const steps: string[] = []
    const statuses = await followUntilSettled({ baseUrl, onStatus: (dataset) => { seen.push(dataset) }, onStep: (line) => { steps.push(line) } }, 'ds-1')
    expect(statuses).toEqual(['INDEXING', 'READY'])
    expect(seen).toEqual([indexing, ready])
    expect(steps).toEqual(['GET /v1/datasets/ds-1/events: INDEXING 40%', 'GET /v1/datasets/ds-1/events: READY 100%', 'GET /v1/datasets/ds-1/events: complete'])
  })

  it('throws a problem event as a ProblemError', async () => {
    const problem = { type: 'urn:vl-gateway:problem:unauthenticated', title: 'Unauthenticated', status: 401, detail: 'Your token has expired.', code: 'UNAUTHENTICATED', requestId: 'r-1' }
    chunks = [`event: problem\ndata: ${JSON.stringify(problem)}\n\n`]
    await expect(followUntilSettled({ baseUrl }, 'ds-1')).rejects.toMatchObject({ problem, message: '401 UNAUTHENTICATED: Your token has expired.' })
  })
})
