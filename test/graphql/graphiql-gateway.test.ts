import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_ACCOUNTS, SEED } from '../../src/emulator/index.js'
import { GRAPHIQL_TOKEN_HEADERS } from '../../src/transports/graphiql/plugin.js'
import { describeWithBrowser, launchBrowser, requestsOffOrigin } from '../helpers/browser.js'
import { editorText, openGraphiQL, runQueryInGraphiQL } from '../helpers/graphiql.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { AUTH_MODES, startModeGateway } from '../helpers/modes.js'
import { visualLayerToken } from '../helpers/tokens.js'

describeWithBrowser('GraphiQL on the gateway, in a real browser', () => {
  let browser: Browser
  let open: TestGateway
  let passthrough: TestGateway
  beforeAll(async () => {
    [browser, open, passthrough] = await Promise.all([launchBrowser(), startTestGateway(), startTestGateway({ AUTH_MODE: 'passthrough' })])
  })
  afterAll(async () => { await Promise.all([browser?.close(), open?.close(), passthrough?.close()]) })

  it('lists the demo datasets with no account and no request leaving the machine', async () => {
    const { context, page, record } = await openGraphiQL(browser, `${open.url}/graphiql`)
    // In none mode, no header is needed, and none is suggested.
    expect(await editorText(page, 'request-headers.json')).toBe('')
    expect(await page.locator('.graphiql-editor-tools button.active').count()).toBe(0)
    const result = await runQueryInGraphiQL(page, '{ datasets { displayName status } }')
    expect(result).toEqual({
      data: {
        datasets: [
          { displayName: 'Drone Survey March', status: 'INDEXING' },
          { displayName: 'Customer Uploads April', status: 'DRAFT' },
          { displayName: 'Medical Scans Batch 7', status: 'ERROR' },
          { displayName: 'Holiday Campaign 2025', status: 'ERROR' },
          { displayName: 'Warehouse Inspection', status: 'READ_ONLY' },
          { displayName: 'Retail Shelf Photos (enriched)', status: 'READY' },
          { displayName: 'Street Scenes 2025', status: 'PARTIAL_INDEX' },
          { displayName: 'Retail Shelf Photos', status: 'READY' },
          { displayName: 'Training Set v2', status: 'READY' },
          { displayName: 'Product Images Q1', status: 'READY' }
        ]
      }
    })
    expect(requestsOffOrigin(record, open.url)).toEqual([])
    expect(record.problems).toEqual([])
    await context.close()
  })

  it('in passthrough mode, sends the token the user puts in the headers editor', async () => {
    const { context, page, record } = await openGraphiQL(browser, `${passthrough.url}/graphiql`)
    // Its schema request, sent while the headers editor still shows where the token goes, is answered:
    // the placeholder is not sent, so docs and completion work before a token is typed.
    expect(record.problems).toEqual([])
    expect(await editorText(page, 'request-headers.json')).toBe(GRAPHIQL_TOKEN_HEADERS)
    // ... in the Headers tab, open from the start.
    await page.locator('.graphiql-editor-tools button.active[data-name="headers"]').waitFor({ timeout: 5000 })
    const placeholder = await runQueryInGraphiQL(page, `{ dataset(id: "${SEED.datasets.secondaryAccount}") { displayName } }`)
    expect(placeholder).toEqual({
      data: null,
      errors: [{ message: 'Missing Authorization header: send "Authorization: Bearer <token>".', extensions: { code: 'UNAUTHENTICATED', requestId: expect.any(String) } }]
    })
    // That 401 is the only problem (Chromium also logs it).
    expect(record.problems).toEqual([`HTTP 401: POST ${passthrough.url}/graphql`, 'console error: Failed to load resource: the server responded with a status of 401 (Unauthorized)'])
    const query = `{ dataset(id: "${SEED.datasets.secondaryAccount}") { displayName } }`
    const globex = await runQueryInGraphiQL(page, query, { Authorization: `Bearer ${visualLayerToken(DEMO_ACCOUNTS.secondary)}` })
    expect(globex).toEqual({ data: { dataset: { displayName: expect.any(String) } } })
    const acme = await runQueryInGraphiQL(page, query, { Authorization: `Bearer ${visualLayerToken(DEMO_ACCOUNTS.primary)}` })
    expect(acme).toEqual({ data: { dataset: null } })
    const none = await runQueryInGraphiQL(page, query, {})
    expect(none).toEqual({
      data: null,
      errors: [{ message: 'Missing Authorization header: send "Authorization: Bearer <token>".', extensions: { code: 'UNAUTHENTICATED', requestId: expect.any(String) } }]
    })
    await context.close()
  })
})

describe("GraphiQL's headers editor in each auth mode", () => {
  it.each(AUTH_MODES)('%s: opens on where the Bearer token goes only in the modes that need one', async (mode) => {
    const gateway = await startModeGateway(mode)
    try {
      const html = await (await fetch(`${gateway.url}/graphiql`)).text()
      const attribute = /data-default-headers="([^"]*)"/.exec(html)?.[1]
      expect(attribute).toBe(mode === 'none' ? '' : '{\n  &quot;Authorization&quot;: &quot;Bearer &lt;token&gt;&quot;\n}\n')
      expect(GRAPHIQL_TOKEN_HEADERS).toBe('{\n  "Authorization": "Bearer <token>"\n}\n')
    } finally {
      await gateway.close()
    }
  })
})
