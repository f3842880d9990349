import { mkdirSync, readFileSync } from 'node:fs'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EXAMPLE_TABS } from '../../src/transports/graphiql/browser/examples.js'
import { describeWithBrowser, launchBrowser, requestsOffOrigin } from '../helpers/browser.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { openGraphiQL, openTab, resultText, runInGraphiQL, stopRunning, waitForResult } from '../helpers/graphiql.js'

/** Where the screenshot of GraphiQL is saved (gitignored; CI prints its path). */
const SCREENSHOT = 'test-results/graphiql.png'

describe("GraphiQL's example tabs", () => {
  it('each run on the emulator without an error (the queries and the mutation, over HTTP)', async () => {
    const gateway = await startTestGateway()
    try {
      const results = []
      // The last two tabs are the subscription and the live query: they run over WebSocket, in the browser test below.
      expect(EXAMPLE_TABS[4]?.query).toContain('subscription DatasetStatus {')
      expect(EXAMPLE_TABS[5]?.query).toContain('query DatasetPage($id: ID!) @live {')
      for (const tab of EXAMPLE_TABS.slice(0, 4)) {
        const { status, body } = await gateway.gql(tab.query, tab.variables === undefined ? undefined : JSON.parse(tab.variables) as Record<string, unknown>)
        results.push({ status, errors: body.errors, fields: Object.keys(body.data ?? {}) })
      }
      expect(results).toEqual([
        { status: 200, errors: undefined, fields: ['datasets'] },
        { status: 200, errors: undefined, fields: ['dataset'] },
        { status: 200, errors: undefined, fields: ['tasks', 'taskFilterOptions'] },
        { status: 200, errors: undefined, fields: ['enrichDataset'] }
      ])
    } finally {
      await gateway.close()
    }
  })

  it('are the example operations of docs/graphql.md, word for word', () => {
    const page = readFileSync(new URL('../../docs/graphql.md', import.meta.url), 'utf8')
    expect(EXAMPLE_TABS).toHaveLength(6)
    for (const tab of EXAMPLE_TABS) {
      // The tab's text without its comment line, as the page shows it.
      const body = tab.query.split('\n').filter((line) => !line.startsWith('#')).join('\n').trim()
      expect(page, body).toContain(body)
    }
  })
})

describeWithBrowser('GraphiQL opens on the example operations', () => {
  let browser: Browser
  let gateway: TestGateway
  beforeAll(async () => {
    [browser, gateway] = await Promise.all([launchBrowser(), startTestGateway({ POLL_INTERVAL_MS: '250' })])
  })
  afterAll(async () => { await Promise.all([browser?.close(), gateway?.close()]) })

  it('runs the dashboard tab and follows the live status tab while the emulator\'s clock moves, all from this origin', async () => {
    const { context, page, record } = await openGraphiQL(browser, `${gateway.url}/graphiql`)
    expect(await page.locator('.graphiql-tab-button').allInnerTexts()).toEqual(['Dashboard', 'DatasetWithModels', 'TaskManager', 'EnrichDataset', 'DatasetStatus', 'DatasetPage'])

    // The dashboard tab is open first: its result is the gateway's answer to the same document.
    const expected = await gateway.gql(EXAMPLE_TABS[0]?.query ?? '')
    const dashboard = await runInGraphiQL(page) as { data: { datasets: Array<{ displayName: string, status: string, sourceDataset: { displayName: string } | null }> } }
    expect(dashboard).toEqual(expected.body)
    expect(dashboard.data.datasets.map(({ displayName, status, sourceDataset }) => [displayName, status, sourceDataset?.displayName ?? null])).toEqual([
      ['Drone Survey March', 'INDEXING', null],
      ['Customer Uploads April', 'DRAFT', null],
      ['Medical Scans Batch 7', 'ERROR', null],
      ['Holiday Campaign 2025', 'ERROR', null],
      ['Warehouse Inspection', 'READ_ONLY', null],
      ['Retail Shelf Photos (enriched)', 'READY', 'Retail Shelf Photos'],
      ['Street Scenes 2025', 'PARTIAL_INDEX', null],
      ['Retail Shelf Photos', 'READY', null],
      ['Training Set v2', 'READY', null],
      ['Product Images Q1', 'READY', null]
    ])
    // The result pane shows it on screen (Monaco draws the lines on the next frame).
    await page.locator('.result-window .view-lines', { hasText: '"datasets": [' }).waitFor({ timeout: 5000 })
    const shown = (await page.locator('.result-window .view-line').allInnerTexts()).map((line) => line.replace(/\u00a0/g, ' '))
    expect(shown.slice(0, 4)).toEqual(['{', '  "data": {', '    "datasets": [', '      {'])

    // The live status tab: the dataset now, then each change as the emulator's clock moves, until READY.
    await openTab(page, 'DatasetStatus')
    const first = await runInGraphiQL(page)
    expect(first).toEqual({ data: { datasetStatusChanged: { status: 'INDEXING', progress: 14, imageCount: 3140 } } })
    expect(record.requests).toContain(`WS ${gateway.url.replace('http:', 'ws:')}/graphql`)
    const events = [first]
    for (const advance of [10_000, 30_000]) {
      const before = await resultText(page)
      gateway.emulator.advance(advance)
      events.push(JSON.parse(await waitForResult(page, (text) => text !== before)))
    }
    expect(events.slice(1)).toEqual([
      { data: { datasetStatusChanged: { status: 'INDEXING', progress: 42, imageCount: 3140 } } },
      { data: { datasetStatusChanged: { status: 'READY', progress: 100, imageCount: 3140 } } }
    ])
    // READY ends the subscription: the run button is back.
    await page.locator('button.graphiql-execute-button[aria-label^="Execute"]').waitFor()
    await stopRunning(page)

    // The sidebar: the docs, the explorer, the history. The docs list the root types.
    const sidebar = page.locator('.graphiql-sidebar button[aria-label^="Show "]')
    expect(await sidebar.evaluateAll((buttons) => buttons.map((button) => button.getAttribute('aria-label')))).toEqual([
      'Show Documentation Explorer', 'Show GraphiQL Explorer', 'Show History'
    ])
    await page.locator('button[aria-label="Show Documentation Explorer"]').click()
    await page.locator('.graphiql-doc-explorer', { hasText: 'subscription: Subscription' }).waitFor({ timeout: 5000 })
    await page.locator('button[aria-label="Show GraphiQL Explorer"]').click()
    // The explorer shows the open tab's operation: the subscription's fields, and the other subscription.
    await page.locator('.graphiql-plugin', { hasText: 'datasetStatusChanged' }).filter({ hasText: 'taskUpdated' }).waitFor({ timeout: 5000 })

    // The live query tab: the whole page (the dataset READY by now), then the page again after a write
    // through the gateway (an enrichment makes it READ_ONLY and starts a task), as a fresh query gives it.
    await openTab(page, 'DatasetPage')
    const pageTab = EXAMPLE_TABS[5]
    const variables = JSON.parse(pageTab?.variables ?? '{}') as Record<string, unknown>
    const fresh = async (): Promise<unknown> => (await gateway.gql((pageTab?.query ?? '').replace(' @live', ''), variables)).body
    expect(await runInGraphiQL(page)).toEqual(await fresh())
    const enriched = await gateway.gql(`mutation { enrichDataset(datasetId: "${String(variables.id)}", models: [{ type: "CAPTION_IMAGES", modelId: "vl_image_captioner_v00" }]) { enrichedDatasetId } }`)
    expect(enriched.body.errors).toBeUndefined()
    const after = JSON.stringify(await fresh())
    const updated = JSON.parse(await waitForResult(page, (text) => { try { return JSON.stringify(JSON.parse(text)) === after } catch { return false } })) as { data: { dataset: { status: string } } }
    expect(updated.data.dataset.status).toBe('READ_ONLY')
    await stopRunning(page)

    expect(requestsOffOrigin(record, gateway.url)).toEqual([])
    expect(record.problems).toEqual([])
    mkdirSync('test-results', { recursive: true })
    await page.screenshot({ path: SCREENSHOT })
    process.stdout.write(`GraphiQL screenshot: ${SCREENSHOT}\n`)
    await context.close()
  }, 60_000)
})
