import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeWithBrowser, launchBrowser } from '../helpers/browser.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'

/*
 * CORS for the headers browser clients add on their own (W3C trace context, Apollo Client's name and
 * version) and those of CORS_ALLOWED_HEADERS: a preflight over HTTP, then Chromium itself deciding,
 * from a page of another origin, whether a request with those headers may be sent.
 */

const BROWSER_HEADERS = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: 'vendor=1', 'apollographql-client-name': 'web', 'apollographql-client-version': '1.4.0' }

describe('CORS_ALLOWED_HEADERS', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway({ CORS_ORIGINS: 'https://app.example.com', CORS_ALLOWED_HEADERS: 'X-Tenant-Id,baggage' }) })
  afterAll(async () => { await gw.close() })

  it('adds the listed headers to the built-in ones in the preflight answer', async () => {
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'traceparent,x-tenant-id,baggage' }
    })
    expect([res.status, res.headers.get('access-control-allow-origin'), res.headers.get('access-control-allow-headers')]).toEqual([204, 'https://app.example.com',
      'authorization, content-type, x-request-id, x-graphql-event-stream-token, graphql-preflight, apollo-require-preflight, x-apollo-operation-name, x-gateway-cost, ' +
      'idempotency-key, if-none-match, last-event-id, traceparent, tracestate, apollographql-client-name, apollographql-client-version, x-tenant-id, baggage'])
    expect(gw.emulator.calls()).toEqual([])
  })
})

describeWithBrowser('CORS in a browser', () => {
  let gw: TestGateway
  let site: Server
  let browser: Browser
  let page: Page

  beforeAll(async () => {
    // A page of another origin (another port of the same address, so no private-network rules apply).
    site = createServer((_req, res) => { res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title>') })
    site.listen(0, '127.0.0.1')
    await once(site, 'listening')
    const origin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`
    gw = await startTestGateway({ CORS_ORIGINS: origin, CORS_ALLOWED_HEADERS: 'x-tenant-id' })
    browser = await launchBrowser()
    page = await browser.newPage()
    await page.goto(`${origin}/`)
  })
  afterAll(async () => {
    await browser?.close()
    await gw?.close()
    site?.close()
  })

  /** What the page's fetch of { __typename } gives with these headers: the data, or the browser's refusal. */
  const query = async (headers: Record<string, string>): Promise<unknown> => await page.evaluate(async ({ url, headers }) => {
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: '{ __typename }' }) })
      return await res.json()
    } catch (err) {
      return `refused: ${String(err)}`
    }
  }, { url: `${gw.url}/graphql`, headers })

  it('sends a request with trace context, Apollo client awareness and a listed header, and refuses an unlisted one', async () => {
    expect(await query({ ...BROWSER_HEADERS, 'x-tenant-id': 't-1' })).toEqual({ data: { __typename: 'Query' } })
    // The same request with a header nobody allowed: the preflight answers without it and the browser sends nothing.
    expect(await query({ ...BROWSER_HEADERS, 'x-unlisted': '1' })).toBe('refused: TypeError: Failed to fetch')
    expect(gw.logs.entries().filter((entry) => entry.msg === 'incoming request').map((entry) => (entry.req as { method: string }).method))
      .toEqual(['OPTIONS', 'POST', 'OPTIONS'])
  })
})
