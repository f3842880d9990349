import { createHash } from 'node:crypto'
import { createReadStream, existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { gzip as gzipCallback } from 'node:zlib'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { BOOTSTRAP_JS, PAGE_CSS } from './client.js'

/**
 * A self-hosted GraphiQL: the page at `path` and its scripts and styles under `path/assets/`, all
 * read from node_modules (graphiql, react, react-dom, graphql-ws) when the plugin is registered,
 * so the page works with no network at all. Only a fixed list of files is served; any other name
 * under the prefix is a 404 from the application's not-found handler.
 *
 * Asset URLs carry the package version (or, for the gateway's own files, a hash of the content),
 * so they are cached for a year; the page itself is revalidated on every visit. The page's
 * Content-Security-Policy allows this origin only, no inline script or style, no eval.
 *
 * Register it with its own `path` rather than a Fastify `prefix`.
 */
export interface GraphiQLOptions {
  /** The GraphQL endpoint's path on this server: queries are POSTed there, subscriptions use a WebSocket there. */
  endpoint: string
  /** Where the page is served; `/graphiql` by default. */
  path?: string
}

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  // GraphiQL's stylesheet embeds its fonts and icons as data: URLs.
  "font-src 'self' data:",
  "img-src 'self' data:",
  // 'self' covers ws:// and wss:// to the same host and port (CSP level 3).
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'"
].join('; ')

const IMMUTABLE = 'public, max-age=31536000, immutable'
const JS = 'text/javascript; charset=utf-8'
const CSS = 'text/css; charset=utf-8'
const SOURCE_MAP = 'application/json; charset=utf-8'
const gzip = promisify(gzipCallback)

interface Asset {
  contentType: string
  /** In memory, or (source maps, only read by developer tools) streamed from a fixed file. */
  source: { body: Buffer } | { file: string }
}

interface PackageFiles {
  /** The package's folder, found by Node's resolution from this module (works from src/ and dist/). */
  dir: string
  version: string
}

const require = createRequire(import.meta.url)
const BOOTSTRAP = Buffer.from(BOOTSTRAP_JS, 'utf8')
const PAGE_STYLE = Buffer.from(PAGE_CSS, 'utf8')

function packageFiles (name: string): PackageFiles {
  const manifest = require.resolve(`${name}/package.json`)
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }
  return { dir: dirname(manifest), version }
}

function hashOf (content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex').slice(0, 16)
}

function escapeAttribute (value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** Whether `accept-encoding` admits gzip (q > 0). */
function acceptsGzip (header: string | undefined): boolean {
  if (header === undefined) return false
  return header.split(',').some((part) => {
    const [coding = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase())
    if (coding !== 'gzip' && coding !== '*') return false
    const q = params.find((p) => p.startsWith('q='))
    return q === undefined || Number(q.slice(2)) > 0
  })
}

function checkPath (name: string, value: string): void {
  if (!value.startsWith('/') || value.startsWith('//') || value.endsWith('/') || /[\s"'<>\\?#]/.test(value)) {
    throw new Error(`graphiql: ${name} must be a path on this server such as "/graphql", got ${JSON.stringify(value)}`)
  }
}

export const graphiqlPlugin: FastifyPluginAsync<GraphiQLOptions> = async (app, options) => {
  const path = options.path ?? '/graphiql'
  checkPath('endpoint', options.endpoint)
  checkPath('path', path)
  const base = `${app.prefix}${path}`

  // Files are read once, at registration; each is compressed once, on its first request.
  const assets = new Map<string, Asset>()
  const gzipped = new WeakMap<Buffer, Promise<Buffer>>()
  const gzipOnce = (body: Buffer): Promise<Buffer> => {
    let compressed = gzipped.get(body)
    if (compressed === undefined) {
      compressed = gzip(body)
      gzipped.set(body, compressed)
      compressed.catch(() => gzipped.delete(body))
    }
    return compressed
  }
  const addFile = (name: string, file: string, contentType: string): string => {
    assets.set(name, { contentType, source: { body: readFileSync(file) } })
    // The bundle names its source map relative to itself; serve it beside it when the package has it.
    if (existsSync(`${file}.map`)) assets.set(`${name}.map`, { contentType: SOURCE_MAP, source: { file: `${file}.map` } })
    return `${base}/assets/${name}`
  }
  const addOwn = (stem: string, extension: string, content: Buffer, contentType: string): string => {
    const name = `${stem}.${hashOf(content)}.${extension}`
    assets.set(name, { contentType, source: { body: content } })
    return `${base}/assets/${name}`
  }

  const graphiql = packageFiles('graphiql')
  const react = packageFiles('react')
  const reactDom = packageFiles('react-dom')
  const graphqlWs = packageFiles('graphql-ws')
  const scripts = [
    addFile(`react@${react.version}/react.production.min.js`, join(react.dir, 'umd/react.production.min.js'), JS),
    addFile(`react-dom@${reactDom.version}/react-dom.production.min.js`, join(reactDom.dir, 'umd/react-dom.production.min.js'), JS),
    addFile(`graphql-ws@${graphqlWs.version}/graphql-ws.min.js`, join(graphqlWs.dir, 'umd/graphql-ws.min.js'), JS),
    addFile(`graphiql@${graphiql.version}/graphiql.min.js`, join(graphiql.dir, 'graphiql.min.js'), JS),
    addOwn('graphiql-bootstrap', 'js', BOOTSTRAP, JS)
  ]
  const styles = [
    addFile(`graphiql@${graphiql.version}/graphiql.min.css`, join(graphiql.dir, 'graphiql.min.css'), CSS),
    addOwn('graphiql-page', 'css', PAGE_STYLE, CSS)
  ]

  const page = Buffer.from(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>GraphiQL</title>
<link rel="icon" href="data:,">
${styles.map((href) => `<link rel="stylesheet" href="${escapeAttribute(href)}">`).join('\n')}
</head>
<body>
<div id="graphiql" data-endpoint="${escapeAttribute(options.endpoint)}">Loading GraphiQL…</div>
${scripts.map((src) => `<script src="${escapeAttribute(src)}" defer></script>`).join('\n')}
</body>
</html>
`, 'utf8')

  app.get(path, async (_request, reply) => {
    return reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('x-content-type-options', 'nosniff')
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'no-referrer')
      .send(page)
  })

  app.get<{ Params: { '*': string } }>(`${path}/assets/*`, async (request: FastifyRequest<{ Params: { '*': string } }>, reply: FastifyReply) => {
    const asset = assets.get(request.params['*'])
    if (asset === undefined) {
      reply.callNotFound()
      return reply
    }
    reply
      .header('content-type', asset.contentType)
      .header('cache-control', IMMUTABLE)
      .header('x-content-type-options', 'nosniff')
      .header('cross-origin-resource-policy', 'same-origin')
    if ('file' in asset.source) return reply.send(createReadStream(asset.source.file))
    const body = asset.source.body
    if (body.length < 1024) return reply.send(body)
    reply.header('vary', 'accept-encoding')
    if (!acceptsGzip(request.headers['accept-encoding'])) return reply.send(body)
    return reply.header('content-encoding', 'gzip').send(await gzipOnce(body))
  })
}
