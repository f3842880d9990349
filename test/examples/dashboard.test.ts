import { execFile } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { Browser, Page } from 'playwright-core'
import { preview, type PreviewServer } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateDashboardFiles } from '../../examples/dashboard/codegen.js'
import { DASHBOARD_MANIFEST, DASHBOARD_ROOT, dashboardConfig } from '../../examples/dashboard/config.js'
import { SEED } from '../../src/emulator/index.js'
import { describeWithBrowser, launchBrowser, recordPage, requestsOffOrigin } from '../helpers/browser.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'

/**
 * The example dashboard (examples/dashboard): its generated documents and manifest are what the
 * client preset generates today, and, built by Vite and served with /graphql forwarded to a gateway
 * that runs only its manifest's documents (TRUSTED_DOCUMENTS_ONLY), it shows the datasets, retries
 * and aborts tasks, refuses an enrichment with the gateway's words under the models, runs one, and
 * follows the enriched copy to READY live while the test moves the emulator's clock.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SCREENSHOT = 'test-results/dashboard.png'
const VITE_BIN = fileURLToPath(new URL('../../node_modules/vite/bin/vite.js', import.meta.url))
const execFileAsync = promisify(execFile)

describe('examples/dashboard: generated files', () => {
  it('are what the client preset generates today from app/documents.ts (regenerate with `npx tsx examples/dashboard/codegen.ts`)', async () => {
    const files = await generateDashboardFiles()
    expect([...files.keys()].sort()).toEqual([
      'examples/dashboard/app/gql/gql.ts',
      'examples/dashboard/app/gql/graphql.ts',
      'examples/dashboard/app/gql/index.ts',
      'examples/dashboard/app/gql/persisted-documents.json'
    ])
    for (const [path, content] of files) expect(content, path).toBe(await readFile(`${ROOT}${path}`, 'utf8'))
    const manifest = JSON.parse(await readFile(DASHBOARD_MANIFEST, 'utf8')) as Record<string, string>
    // One document per operation of app/documents.ts, by name.
    expect(Object.values(manifest).map((document) => /^(?:query|mutation|subscription) (\w+)/.exec(document)?.[1]).sort()).toEqual([
      'DashboardAbortTask', 'DashboardDataset', 'DashboardDatasetLive', 'DashboardDatasets', 'DashboardEnrichDataset',
      'DashboardEnrichmentModels', 'DashboardRetryTask', 'DashboardTasks'
    ])
  })
})

interface Cell { innerText: string }
interface Row { querySelectorAll: (selector: string) => Iterable<Cell> }

/** The text of each cell of the rows `selector` finds, once there are `count` of them. */
async function rowsOf (page: Page, selector: string, count: number): Promise<string[][]> {
  await page.locator(selector).nth(count - 1).waitFor()
  await page.locator(selector).nth(count).waitFor({ state: 'detached' })
  return await page.locator(selector).evaluateAll((rows) => rows.map((row) => [...(row as unknown as Row).querySelectorAll('td')].map((cell) => cell.innerText.trim())))
}

/** The texts of the elements `selector` finds, once there are `count` of them. */
async function textsOf (page: Page, selector: string, count: number): Promise<string[]> {
  await page.locator(selector).nth(count - 1).waitFor()
  await page.locator(selector).nth(count).waitFor({ state: 'detached' })
  return (await page.locator(selector).allInnerTexts()).map((text) => text.trim())
}

describeWithBrowser('examples/dashboard in Chromium, on a gateway with TRUSTED_DOCUMENTS_ONLY', () => {
  let browser: Browser
  let gateway: TestGateway
  let server: PreviewServer
  let outDir: string
  let origin: string
  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'dashboard-'))
    ;[browser, gateway] = await Promise.all([
      launchBrowser(),
      startTestGateway({ POLL_INTERVAL_MS: '250', TRUSTED_DOCUMENTS: DASHBOARD_MANIFEST, TRUSTED_DOCUMENTS_ONLY: 'true' })
    ])
    const config = dashboardConfig(gateway.url)
    // `vite build` as a developer runs it, in a process of its own: vitest's NODE_ENV=test would give
    // this one React's development build.
    await execFileAsync(process.execPath, [VITE_BIN, 'build', DASHBOARD_ROOT, '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], {
      env: { ...process.env, NODE_ENV: 'production' }
    })
    server = await preview({ ...config, logLevel: 'silent', build: { ...config.build, outDir }, preview: { ...config.preview, port: 0 } })
    const address = server.httpServer.address()
    if (address === null || typeof address === 'string') throw new Error('the preview server has no port')
    origin = `http://127.0.0.1:${address.port}`
  }, 60_000)
  afterAll(async () => {
    await Promise.all([browser?.close(), server?.close(), gateway?.close()])
    if (outDir !== undefined) await rm(outDir, { recursive: true, force: true })
  })

  it('lists datasets, retries and aborts tasks, shows refusals where they belong, and follows an enrichment to READY live', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const page = await context.newPage()
    const record = recordPage(page)
    gateway.emulator.clearCalls()

    // The datasets list.
    await page.goto(`${origin}/`)
    expect(await rowsOf(page, 'table.datasets tbody tr', 10)).toEqual([
      ['Drone Survey March', 'INDEXING', '14%', '3,140', '0', '2026-03-02 11:59', ''],
      ['Customer Uploads April', 'DRAFT', '0%', '640', '0', '2026-03-02 11:59', ''],
      ['Medical Scans Batch 7', 'ERROR', '37%', '1,204', '0', '2026-02-27 06:50', ''],
      ['Holiday Campaign 2025', 'ERROR', '35%', '980', '0', '2026-02-24 09:08', ''],
      ['Warehouse Inspection', 'READ_ONLY', '100%', '8,760', '0', '2026-02-16 05:57', ''],
      ['Retail Shelf Photos (enriched)\nfrom Retail Shelf Photos', 'READY', '100%', '2,260', '18,934', '2026-02-09 04:14', 'Enrich'],
      ['Street Scenes 2025', 'PARTIAL_INDEX', '100%', '15,320', '0', '2026-02-06 10:52', ''],
      ['Retail Shelf Photos', 'READY', '100%', '2,260', '0', '2026-02-02 06:26', 'Enrich'],
      ['Training Set v2', 'READY', '100%', '12,500', '0', '2026-01-26 09:41', 'Enrich'],
      ['Product Images Q1', 'READY', '100%', '4,812', '0', '2026-01-20 08:47', 'Enrich']
    ])

    // The task manager: the failed tasks; the failed creation of Medical Scans Batch 7 is retried.
    await page.locator('nav a', { hasText: 'Tasks' }).click()
    await page.locator('.page-info', { hasText: 'Page 1 of 5, 46 tasks' }).waitFor()
    await page.locator('.filter select').selectOption('FAILED')
    await page.locator('.page-info', { hasText: 'Page 1 of 1, 10 tasks' }).waitFor()
    const retryRow = page.locator(`tr[data-id="${SEED.tasks.errorCreation}"]`)
    expect(await rowsOf(page, `tr[data-id="${SEED.tasks.errorCreation}"]`, 1)).toEqual([[
      'DATASET_CREATION', 'Medical Scans Batch 7',
      'FAILED\nFailed to read 312 of 1,204 files from s3://acme-medical-imaging/batch-7: AccessDenied',
      '37%', '2026-02-27 06:50', 'rachel@acme.example', 'Retry'
    ]])
    await retryRow.locator('button', { hasText: 'Retry' }).click()
    // Retried, it is no longer FAILED: the list, read again, has one task less.
    await page.locator('.page-info', { hasText: 'Page 1 of 1, 9 tasks' }).waitFor()
    expect(await retryRow.count()).toBe(0)

    // The running creation of Drone Survey March can be aborted, but it finishes before the click:
    // the gateway's refusal is shown by the Abort button, in that row.
    await page.locator('.filter select').selectOption('RUNNING')
    const abortRow = page.locator(`tr[data-id="${SEED.tasks.indexingCreation}"]`)
    await abortRow.locator('button', { hasText: 'Abort' }).waitFor()
    gateway.emulator.advance(60_000)
    await abortRow.locator('button', { hasText: 'Abort' }).click()
    const abortError = abortRow.locator(`#task-${SEED.tasks.indexingCreation}-abort-error`)
    await abortError.waitFor()
    expect(await abortError.locator('.problem-code').innerText()).toBe('CONFLICT')
    expect(await abortError.locator('.problem-message').innerText()).toBe(
      `Task ${SEED.tasks.indexingCreation} cannot be aborted now; Visual Layer says: Task is already COMPLETED and cannot be aborted. ` +
      'Abort works only on a DATASET_CREATION task that is INITIALIZING, or RUNNING before its final commit phase; Task.canAbort tells in advance.'
    )

    // The enrichment form of Product Images Q1, with its models.
    await page.goto(`${origin}/#/datasets/${SEED.datasets.ready}/enrich`)
    expect(await textsOf(page, 'fieldset label.model', 4)).toEqual([
      'VL-Image-Captioner\nCAPTION_IMAGES, VL',
      'VL-Object-Detector\nOBJECT_DETECTION, VL',
      'VL-Object-Captioner\nCAPTION_OBJECTS, VL\nneeds OBJECT_DETECTION',
      'NV-Face-Detector\nFACE_DETECTION, Nvidia\nCOMING_SOON'
    ])
    // A model that is not Active is shown, not offered.
    expect(await page.locator('label.model input').evaluateAll((inputs) => inputs.map((input) => (input as unknown as { disabled: boolean }).disabled)))
      .toEqual([false, false, false, true])
    // Object captions alone: the gateway refuses (a missing dependency), under the models, naming the model.
    await page.locator('label.model', { hasText: 'VL-Object-Captioner' }).locator('input').check()
    await page.locator('button[type=submit]').click()
    const modelsError = page.locator('#models-error')
    await modelsError.waitFor()
    expect(await modelsError.locator('.problem-code').innerText()).toBe('BAD_USER_INPUT')
    expect(await modelsError.locator('.problem-message').innerText()).toBe(
      `Dataset ${SEED.datasets.ready} was not enriched, and nothing was sent to Visual Layer: the request has one problem. ` +
      'models[0]: model "vl_object_captioner_v00" (CAPTION_OBJECTS) depends on OBJECT_DETECTION, which is neither in this request nor applied to the dataset: add a OBJECT_DETECTION model to this request.'
    )
    expect(await page.locator('label.model.invalid').innerText()).toContain('VL-Object-Captioner')
    expect(await page.locator('#submit-error').count()).toBe(0)
    const writes = (): string[] => gateway.emulator.calls({ method: 'POST' }).map((call) => call.path)
    // The retry, the abort Visual Layer refused, and no enrichment.
    expect(writes()).toEqual([`/api/v1/tasks/${SEED.tasks.errorCreation}/retry`, `/api/v1/tasks/${SEED.tasks.indexingCreation}/abort`])

    // Image captions: the enrichment starts, and the page of the copy follows it live.
    await page.locator('label.model', { hasText: 'VL-Object-Captioner' }).locator('input').uncheck()
    await page.locator('label.model', { hasText: 'VL-Image-Captioner' }).locator('input').check()
    await page.locator('button[type=submit]').click()
    await page.locator('.updates li').first().waitFor()
    const copy = decodeURIComponent(new URL(page.url()).hash.replace('#/datasets/', ''))
    expect(writes().slice(2)).toEqual([`/api/v1/dataset/${SEED.datasets.ready}/enrich_dataset`])
    expect(await page.locator('#dataset-title').innerText()).toBe('Product Images Q1 (enriched)')
    expect(await textsOf(page, '.updates li', 1)).toEqual(['DRAFT 0%'])
    expect(await page.locator('#dataset-status').innerText()).toBe('DRAFT')
    gateway.emulator.advance(3_600_000)
    await page.locator('#dataset-status', { hasText: /^READY$/ }).waitFor()
    expect(await textsOf(page, '.updates li', 2)).toEqual(['DRAFT 0%', 'READY 100%'])
    // Status, progress, images, videos, objects, created (the emulator's clock, moved a minute), source, enrichments.
    expect(await textsOf(page, '.facts dd', 8)).toEqual(['READY', '100%', '4,812', '0', '0', '2026-03-02 12:01', 'Product Images Q1', 'VL-Image-Captioner (CAPTION_IMAGES)'])
    expect(copy).not.toBe(SEED.datasets.ready)

    // Everything went to the page's own origin, the WebSocket included, and nothing went wrong.
    expect(record.requests).toContain(`WS ${origin.replace('http:', 'ws:')}/graphql`)
    // Queries went as GETs that name their document by hash, without its text.
    const gets = record.requests.filter((request) => request.startsWith(`GET ${origin}/graphql?`)).map((request) => new URL(request.slice(4)).searchParams)
    expect(gets.length).toBeGreaterThanOrEqual(6)
    expect(gets.filter((params) => params.has('query') || !/"sha256Hash":"sha256:[0-9a-f]{64}"/.test(params.get('extensions') ?? ''))).toEqual([])
    expect(requestsOffOrigin(record, origin)).toEqual([])
    expect(record.problems).toEqual([])
    mkdirSync('test-results', { recursive: true })
    await page.screenshot({ path: SCREENSHOT, fullPage: true })
    process.stdout.write(`dashboard screenshot: ${SCREENSHOT}\n`)
    await context.close()
  }, 60_000)
})
