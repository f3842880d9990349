import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import Fastify, { type FastifyInstance } from 'fastify'
import mercurius, { type MercuriusContext } from 'mercurius'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sourceHash } from '../../scripts/build-graphiql.mjs'
import { BUNDLE_DIR, contentSecurityPolicy, graphiqlPlugin } from '../../src/transports/graphiql/plugin.js'
import { describeWithBrowser, launchBrowser, requestsOffOrigin, type PageRecord } from '../helpers/browser.js'
import { openGraphiQL, resultText, runQueryInGraphiQL } from '../helpers/graphiql.js'

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

const manifest = JSON.parse(readFileSync(join(BUNDLE_DIR, 'manifest.json'), 'utf8')) as { script: string, styles: string[], files: string[], sourceHash: string }
const scriptUrl = `/graphiql/assets/${manifest.script}`

describe('GraphiQL over HTTP', () => {
  let app: FastifyInstance
  beforeAll(async () => { app = await buildApp() })
  afterAll(async () => { await app.close() })

  it('serves the page with a strict Content-Security-Policy, a fresh style nonce and no inline script or style', async () => {
    const response = await app.inject({ method: 'GET', url: '/graphiql' })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8')
    const nonce = /<script type="module" src="[^"]+" nonce="([A-Za-z0-9+/]{24})"><\/script>/.exec(response.body)?.[1] ?? ''
    expect(nonce).toHaveLength(24)
    const policy = String(response.headers['content-security-policy'])
    expect(policy).toBe(contentSecurityPolicy(nonce))
    expect(policy.split('; ')).toEqual([
      "default-src 'none'",
      "script-src 'self'",
      `style-src 'self' 'nonce-${nonce}'`,
      `style-src-elem 'self' 'nonce-${nonce}'`,
      "style-src-attr 'unsafe-inline'",
      "worker-src 'self'",
      "font-src 'self' data:",
      "img-src 'self' data:",
      "connect-src 'self'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
      "object-src 'none'"
    ])
    expect(policy).not.toMatch(/unsafe-eval|blob:|https?:|\*/)
    expect(response.headers['cache-control']).toBe('no-store')
    expect(response.headers['x-content-type-options']).toBe('nosniff')
    const html = response.body
    expect(html).toContain('data-endpoint="/graphql"')
    expect(html).toContain('data-default-headers=""')
    // Every <script> has a src and an empty body; no <style> element, no style attribute, nothing from elsewhere.
    expect([...html.matchAll(/<script\b([^>]*)>([^<]*)<\/script>/g)].every(([, attributes, body]) => attributes?.includes(' src="/') === true && body === '')).toBe(true)
    expect(html).not.toMatch(/<style|style=|https?:\/\/|\/\/unpkg|fonts\.googleapis/)
    expect(assetUrls(html)).toEqual([...manifest.styles.map((name) => `/graphiql/assets/${name}`), scriptUrl])
    // Another visit, another nonce.
    const again = await app.inject({ method: 'GET', url: '/graphiql' })
    expect(again.headers['content-security-policy']).not.toBe(policy)
  })

  it('serves a bundle built from the current sources (else run `npm run build`)', async () => {
    expect(manifest.sourceHash, 'dist/graphiql/ is older than src/transports/graphiql/browser/ or package-lock.json: run `npm run build`').toBe(await sourceHash())
  })

  it('serves every file of the bundle built by `npm run build`, with its content type and a long cache', async () => {
    expect(manifest.files).toEqual(expect.arrayContaining([manifest.script, ...manifest.styles]))
    // The page's script, its stylesheet, Monaco's three workers and its icon font (in any order: the
    // manifest sorts the hashed names, and a hash moves a name).
    expect(manifest.files.map((name) => name.replace(/-[A-Z0-9]{8}\./, '.')).sort()).toEqual([
      'codicon.ttf', 'editor.worker.js', 'graphiql.css', 'graphiql.js', 'graphql.worker.js', 'json.worker.js'
    ])
    for (const name of manifest.files) {
      const url = `/graphiql/assets/${name}`
      const response = await app.inject({ method: 'GET', url })
      expect(response.statusCode, url).toBe(200)
      expect(response.headers['content-type'], url).toBe({ js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', ttf: 'font/ttf' }[name.split('.').pop() ?? ''])
      expect(response.headers['cache-control'], url).toBe('public, max-age=31536000, immutable')
      expect(response.headers['x-content-type-options'], url).toBe('nosniff')
      expect(response.rawPayload.equals(readFileSync(join(BUNDLE_DIR, name))), url).toBe(true)
    }
  })

  it('compresses large assets for clients that accept gzip', async () => {
    const response = await app.inject({ method: 'GET', url: scriptUrl, headers: { 'accept-encoding': 'br, gzip;q=0.8' } })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-encoding']).toBe('gzip')
    expect(response.headers.vary).toBe('accept-encoding')
    expect(gunzipSync(response.rawPayload).equals(readFileSync(join(BUNDLE_DIR, manifest.script)))).toBe(true)
    const refused = await app.inject({ method: 'GET', url: scriptUrl, headers: { 'accept-encoding': 'gzip;q=0' } })
    expect(refused.headers['content-encoding']).toBeUndefined()
  })

  it.each([
    '/graphiql/assets/../../package.json',
    '/graphiql/assets/..%2F..%2Fpackage.json',
    '/graphiql/assets/%2e%2e/%2e%2e/package.json',
    '/graphiql/assets/',
    '/graphiql/assets/unknown.js',
    '/graphiql/assets/manifest.json',
    `/graphiql/assets/${manifest.script}.map`,
    `/graphiql/assets/${manifest.script.replace(/-[A-Z0-9]{8}\./, '-00000000.')}`
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
      `GET ${origin}${scriptUrl}`,
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
