import { afterAll, beforeAll, expect, it } from 'vitest'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { SEED } from '../../src/emulator/index.js'
import { describeWithBrowser, launchBrowser, recordPage, requestsOffOrigin, type PageRecord } from '../helpers/browser.js'
import { freshToken, startModeGateway } from '../helpers/modes.js'
import type { TestGateway } from '../helpers/gateway.js'

/*
 * The REST reference page (/v1/docs, Swagger UI from node_modules) in Debian's Chromium: it renders
 * the operations of /v1/openapi.json from this server alone, and a request made from the page
 * carries the Bearer token set with its Authorize button (jwt mode: without it, 401).
 */

describeWithBrowser('/v1/docs in Chromium', () => {
  let gw: TestGateway
  let browser: Browser
  let context: BrowserContext
  let page: Page
  let record: PageRecord

  beforeAll(async () => {
    gw = await startModeGateway('jwt')
    browser = await launchBrowser()
    context = await browser.newContext()
    page = await context.newPage()
    record = recordPage(page)
    await page.goto(`${gw.url}/v1/docs`)
    await page.locator('.opblock').first().waitFor()
  })

  afterAll(async () => {
    await context?.close()
    await browser?.close()
    await gw?.close()
  })

  it('renders every operation of the document from this server only, without errors', async () => {
    const document = await (await fetch(`${gw.url}/v1/openapi.json`)).json() as { paths: Record<string, Record<string, unknown>> }
    const operations = Object.values(document.paths).reduce((sum, methods) => sum + Object.keys(methods).filter((key) => key !== 'parameters').length, 0)
    expect(await page.locator('.opblock').count()).toBe(operations)
    expect(requestsOffOrigin(record, gw.url)).toEqual([])
    expect(record.requests).toContain(`GET ${gw.url}/v1/openapi.json`)
    expect(record.problems).toEqual([])
  })

  it('sends the token set with Authorize on a request tried from the page', async () => {
    const token = freshToken('jwt') as string
    await page.locator('.auth-wrapper .authorize').click()
    await page.locator('.modal-ux input').first().fill(token)
    await page.locator('.modal-ux .auth-btn-wrapper .authorize').click()
    await page.locator('.modal-ux .btn-done').click()

    const operation = page.locator('.opblock', { has: page.locator('.opblock-summary-path', { hasText: /^\/v1\/datasets\/\{id\}$/ }) }).first()
    await operation.locator('.opblock-summary').click()
    await operation.locator('.try-out__btn').click()
    await operation.locator('input[placeholder="id"], tr[data-param-name="id"] input').first().fill(SEED.datasets.ready)
    const answered = page.waitForResponse((response) => response.url().startsWith(`${gw.url}/v1/datasets/${SEED.datasets.ready}`))
    await operation.locator('.execute').click()
    const response = await answered
    expect(response.request().headers().authorization).toBe(`Bearer ${token}`)
    expect(response.status()).toBe(200)
    expect((await response.json() as { id: string }).id).toBe(SEED.datasets.ready)
  })
})

describeWithBrowser('/v1/docs in Chromium, AUTH_MODE=none', () => {
  let gw: TestGateway
  let browser: Browser
  let context: BrowserContext
  let page: Page

  beforeAll(async () => {
    gw = await startModeGateway('none')
    browser = await launchBrowser()
    context = await browser.newContext()
    page = await context.newPage()
    await page.goto(`${gw.url}/v1/docs`)
    await page.locator('.opblock').first().waitFor()
  })

  afterAll(async () => {
    await context?.close()
    await browser?.close()
    await gw?.close()
  })

  it('tries a write that takes no body as JSON, which the CSRF prevention of REST writes lets through', async () => {
    const operation = page.locator('.opblock', { has: page.locator('.opblock-summary-path', { hasText: /^\/v1\/tasks\/\{id\}\/retry$/ }) }).first()
    await operation.locator('.opblock-summary').click()
    await operation.locator('.try-out__btn').click()
    await operation.locator('input[placeholder="id"], tr[data-param-name="id"] input').first().fill(SEED.tasks.errorCreation)
    const answered = page.waitForResponse((response) => response.url().startsWith(`${gw.url}/v1/tasks/${SEED.tasks.errorCreation}/retry`))
    await operation.locator('.execute').click()
    const response = await answered
    expect(response.request().headers()['content-type']).toBe('application/json')
    expect(response.status()).toBe(200)
    expect(gw.emulator.calls({ method: 'POST' }).map((call) => call.path)).toEqual([`/api/v1/tasks/${SEED.tasks.errorCreation}/retry`])
  })
})
