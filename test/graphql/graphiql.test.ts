import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import Fastify, { type FastifyInstance } from 'fastify'
import mercurius, { type MercuriusContext } from 'mercurius'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONTENT_SECURITY_POLICY, graphiqlPlugin } from '../../src/transports/graphiql/plugin.js'
import { describeWithBrowser, launchBrowser, openGraphiQL, requestsOffOrigin, resultText, runQueryInGraphiQL, type PageRecord } from '../helpers/browser.js'

const require = createRequire(import.meta.url)
const packageDir = (name: string): string => dirname(require.resolve(`${name}/package.json`))
const versionOf = (name: string): string => (JSON.parse(readFileSync(join(packageDir(name), 'package.json'), 'utf8')) as { version: string }).version

const schema = /* GraphQL */ `
  type Query {
    hello(name: String): String
    "The request's Authorization header, as the server received it."
    authorization: String
  }
  type Subscription {
    "One event: the Authorization header of the WebSocket's connection_init payload."
    authorization: String
  }
`

type SubscriptionContext = { request: { headers: Record<string, string | undefined> } }

async function buildApp (): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, forceCloseConnections: true })
  await app.register(mercurius, {
    schema,
    graphiql: false,
    subscription: true,
    resolvers: {
      Query: {
        hello: (_root: unknown, args: { name?: string | null }) => `Hello, ${args.name ?? 'world'}!`,
        authorization: (_root: unknown, _args: unknown, context: MercuriusContext) => context.reply.request.headers.authorization ?? null
      },
      Subscription: {
        authorization: {
          subscribe: async function * (_root: unknown, _args: unknown, context: SubscriptionContext) {
            yield { authorization: context.request.headers.authorization ?? null }
          }
        }
      }
    } as never
  })
  await app.register(graphiqlPlugin, { endpoint: '/graphql' })
  return app
}

/** The URLs of the page's scripts and stylesheets. */
function assetUrls (html: string): string[] {
  return [...html.matchAll(/(?:src|href)="(\/graphiql\/assets\/[^"]+)"/g)].map((match) => match[1] ?? '')
}

describe('GraphiQL over HTTP', () => {
  let app: FastifyInstance
  beforeAll(async () => { app = await buildApp() })
  afterAll(async () => { await app.close() })

  it('serves the page with a strict Content-Security-Policy and no inline script or style', async () => {
    const response = await app.inject({ method: 'GET', url: '/graphiql' })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(response.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY)
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'none'")
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self';")
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/)
    expect(response.headers['cache-control']).toBe('no-cache')
    expect(response.headers['x-content-type-options']).toBe('nosniff')
    const html = response.body
    expect(html).toContain('data-endpoint="/graphql"')
    // Every <script> has a src and an empty body; no <style> element, no style attribute, nothing from elsewhere.
    expect([...html.matchAll(/<script\b([^>]*)>([^<]*)<\/script>/g)].every(([, attributes, body]) => attributes?.includes(' src="/') === true && body === '')).toBe(true)
    expect(html).not.toMatch(/<style|style=|https?:\/\/|\/\/unpkg|fonts\.googleapis/)
    expect(assetUrls(html)).toHaveLength(7)
  })

  it('serves each asset of the page from node_modules, with its content type and a long cache', async () => {
    const html = (await app.inject({ method: 'GET', url: '/graphiql' })).body
    const urls = assetUrls(html)
    expect(urls).toEqual(expect.arrayContaining([
      `/graphiql/assets/react@${versionOf('react')}/react.production.min.js`,
      `/graphiql/assets/react-dom@${versionOf('react-dom')}/react-dom.production.min.js`,
      `/graphiql/assets/graphql-ws@${versionOf('graphql-ws')}/graphql-ws.min.js`,
      `/graphiql/assets/graphiql@${versionOf('graphiql')}/graphiql.min.js`,
      `/graphiql/assets/graphiql@${versionOf('graphiql')}/graphiql.min.css`
    ]))
    for (const url of urls) {
      const response = await app.inject({ method: 'GET', url })
      expect(response.statusCode, url).toBe(200)
      expect(response.headers['content-type'], url).toBe(url.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8')
      expect(response.headers['cache-control'], url).toBe('public, max-age=31536000, immutable')
      expect(response.headers['x-content-type-options'], url).toBe('nosniff')
      expect(response.body.length, url).toBeGreaterThan(0)
    }
    const graphiqlJs = await app.inject({ method: 'GET', url: `/graphiql/assets/graphiql@${versionOf('graphiql')}/graphiql.min.js` })
    expect(graphiqlJs.rawPayload.equals(readFileSync(join(packageDir('graphiql'), 'graphiql.min.js')))).toBe(true)
  })

  it('compresses large assets for clients that accept gzip', async () => {
    const url = `/graphiql/assets/graphiql@${versionOf('graphiql')}/graphiql.min.js`
    const response = await app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'br, gzip;q=0.8' } })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-encoding']).toBe('gzip')
    expect(response.headers.vary).toBe('accept-encoding')
    expect(gunzipSync(response.rawPayload).equals(readFileSync(join(packageDir('graphiql'), 'graphiql.min.js')))).toBe(true)
    const refused = await app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'gzip;q=0' } })
    expect(refused.headers['content-encoding']).toBeUndefined()
  })

  it('serves the source map a bundle names beside it', async () => {
    const response = await app.inject({ method: 'GET', url: `/graphiql/assets/graphiql@${versionOf('graphiql')}/graphiql.min.js.map` })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8')
    expect((JSON.parse(response.body) as { version: number }).version).toBe(3)
  })

  it.each([
    '/graphiql/assets/../../package.json',
    '/graphiql/assets/..%2F..%2Fpackage.json',
    '/graphiql/assets/%2e%2e/%2e%2e/package.json',
    '/graphiql/assets/',
    '/graphiql/assets/unknown.js',
    `/graphiql/assets/react@${versionOf('react')}/react.development.js`,
    `/graphiql/assets/graphiql@${versionOf('graphiql')}/package.json`,
    '/graphiql/assets/graphiql-bootstrap.0000000000000000.js'
  ])('answers 404 for %s', async (url) => {
    const response = await app.inject({ method: 'GET', url })
    expect(response.statusCode).toBe(404)
    expect(response.body).not.toContain('"version"')
  })

  it('refuses an endpoint or path that is not a path on this server', async () => {
    for (const options of [{ endpoint: 'https://example.com/graphql' }, { endpoint: '//example.com/graphql' }, { endpoint: '/graphql', path: 'graphiql' }, { endpoint: '/graphql', path: '/graphiql/' }, { endpoint: '/graphql"><script>' }]) {
      const app = Fastify({ logger: false })
      await expect(app.register(graphiqlPlugin, options).ready()).rejects.toThrow(/must be a path on this server/)
      await app.close()
    }
  })
})

describeWithBrowser('GraphiQL in Chromium', () => {
  let app: FastifyInstance
  let browser: Browser
  let origin: string
  let context: BrowserContext
  let page: Page
  let record: PageRecord

  beforeAll(async () => {
    app = await buildApp()
    await app.listen({ host: '127.0.0.1', port: 0 })
    origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    browser = await launchBrowser()
    ;({ context, page, record } = await openGraphiQL(browser, `${origin}/graphiql`))
  })

  afterAll(async () => {
    await context?.close()
    await browser?.close()
    await app?.close()
  })

  it('renders GraphiQL from this server only, without errors', async () => {
    expect(await page.title()).toBe('GraphiQL')
    await expect(page.locator('.graphiql-container').count()).resolves.toBe(1)
    expect(record.problems).toEqual([])
    expect(requestsOffOrigin(record, origin)).toEqual([])
    expect(record.requests).toEqual(expect.arrayContaining([
      `GET ${origin}/graphiql`,
      `GET ${origin}/graphiql/assets/graphiql@${versionOf('graphiql')}/graphiql.min.js`,
      `POST ${origin}/graphql`
    ]))
  })

  it('runs a query by POST with the headers set in the headers editor', async () => {
    const result = await runQueryInGraphiQL(page, '{ hello(name: "GraphiQL") authorization }', { Authorization: 'Bearer http-token' })
    expect(result).toEqual({ data: { hello: 'Hello, GraphiQL!', authorization: 'Bearer http-token' } })
    expect(await resultText(page)).toBe(JSON.stringify({ data: { hello: 'Hello, GraphiQL!', authorization: 'Bearer http-token' } }, null, 2))
    expect(record.problems).toEqual([])
  })

  it('runs a subscription over graphql-ws, with the headers in connection_init', async () => {
    const result = await runQueryInGraphiQL(page, 'subscription { authorization }', { Authorization: 'Bearer ws-token' })
    expect(result).toEqual({ data: { authorization: 'Bearer ws-token' } })
    expect(record.requests).toContain(`WS ${origin.replace('http:', 'ws:')}/graphql`)
    expect(requestsOffOrigin(record, origin)).toEqual([])
    expect(record.problems).toEqual([])
  })

  it('sends a query that does not parse by POST, even right after a subscription', async () => {
    await runQueryInGraphiQL(page, 'subscription { authorization }', { Authorization: 'Bearer ws-token' })
    const posts = (): number => record.requests.filter((request) => request.startsWith('POST ')).length
    const postsBefore = posts()
    const before = record.problems.length
    const result = await runQueryInGraphiQL(page, '{ hello(name: "x") ')
    // Mercurius' 400 over HTTP: the query went by POST, not over the subscription's socket (which a
    // lazy client may close and reopen in between, so counting sockets would not tell).
    expect(result).toEqual({ data: null, errors: [{ message: 'Syntax Error: Expected Name, found <EOF>.', locations: [{ line: 1, column: 20 }] }] })
    expect(posts()).toBe(postsBefore + 1)
    // The server's 400 answer is the only problem.
    expect(record.problems.slice(before).every((problem) => problem.includes('400'))).toBe(true)
    expect(requestsOffOrigin(record, origin)).toEqual([])
  })
})
