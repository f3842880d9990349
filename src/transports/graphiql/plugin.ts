import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { gzip as gzipCallback } from 'node:zlib'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'

/**
 * A self-hosted GraphiQL 5: the page at `path` and its files under `path/assets/`. The files are
 * bundled from npm packages at build time (scripts/build-graphiql.mjs, from ./browser/) into
 * dist/graphiql/, whose manifest.json lists them; they are read when the plugin is registered, so
 * the page works with no network at all. Only the listed files are served; any other name under
 * the prefix is a 404 from the application's not-found handler.
 *
 * File names carry a hash of their content, so they are cached for a year; the page itself, with a
 * nonce of its own each time, is never stored. Its Content-Security-Policy (contentSecurityPolicy)
 * allows this origin only, no inline script, no eval.
 *
 * Register it with its own `path` rather than a Fastify `prefix`.
 */
export interface GraphiQLOptions {
  /** The GraphQL endpoint's path on this server: queries are POSTed there, subscriptions use a WebSocket there. */
  endpoint: string
  /** Where the page is served; `/graphiql` by default. */
  path?: string
  /** The text every tab's headers editor opens with (JSON); empty by default. */
  defaultHeaders?: string
}

/** The headers text GraphiQL opens with where callers need a token; its placeholder is not sent (browser/fetcher.ts). */
export const GRAPHIQL_TOKEN_HEADERS = '{\n  "Authorization": "Bearer <token>"\n}\n'

/** Where `npm run build` writes the bundle: dist/graphiql/ of the package (this file runs from src/ in tests, dist/ in production). */
export const BUNDLE_DIR = fileURLToPath(new URL('../../../dist/graphiql/', import.meta.url))

/**
 * The page's policy. Monaco, GraphiQL's editor, needs two things a static policy cannot give it:
 * - `<style>` elements it creates at run time (themes, token colours): they carry the page's nonce
 *   (browser/csp-nonce.ts), so `style-src-elem` admits this origin's files and that nonce only;
 * - `style="…"` attributes in the lines it renders as HTML (position, width): `style-src-attr
 *   'unsafe-inline'`. An attribute can move or colour an element, not run script, read the page or
 *   load anything (img-src and font-src stay on this origin).
 * Its workers are files of this origin (`worker-src 'self'`), not blob: URLs.
 */
export function contentSecurityPolicy (nonce: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'self' 'nonce-${nonce}'`,
    `style-src-elem 'self' 'nonce-${nonce}'`,
    "style-src-attr 'unsafe-inline'",
    "worker-src 'self'",
    "font-src 'self' data:",
    "img-src 'self' data:",
    // 'self' covers ws:// and wss:// to the same host and port (CSP level 3).
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'"
  ].join('; ')
}

interface Manifest { script: string, styles: string[], files: string[] }

const IMMUTABLE = 'public, max-age=31536000, immutable'
const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2'
}
const gzip = promisify(gzipCallback)

function readManifest (): Manifest {
  const file = `${BUNDLE_DIR}manifest.json`
  if (!existsSync(file)) throw new Error(`graphiql: the GraphiQL bundle is missing (${file}): run \`npm run build\`, or set GRAPHIQL=false`)
  return JSON.parse(readFileSync(file, 'utf8')) as Manifest
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
  const manifest = readManifest()

  // Files are read once, at registration; each is compressed once, on its first request.
  const assets = new Map<string, { contentType: string, body: Buffer }>()
  for (const name of manifest.files) {
    const contentType = CONTENT_TYPES[extname(name)]
    if (contentType === undefined || !/^[\w.-]+$/.test(name)) throw new Error(`graphiql: unexpected file ${JSON.stringify(name)} in the bundle's manifest`)
    assets.set(name, { contentType, body: readFileSync(`${BUNDLE_DIR}${name}`) })
  }
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

  const asset = (name: string): string => escapeAttribute(`${base}/assets/${name}`)
  const head = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>GraphiQL</title>
<link rel="icon" href="data:,">
${manifest.styles.map((name) => `<link rel="stylesheet" href="${asset(name)}">`).join('\n')}
</head>
<body>
<div id="graphiql" data-endpoint="${escapeAttribute(options.endpoint)}"
  data-default-headers="${escapeAttribute(options.defaultHeaders ?? '')}">Loading GraphiQL…</div>
`
  // The nonce is fresh for every page: it admits the <style> elements the page's own script creates.
  const page = (nonce: string): string => `${head}<script type="module" src="${asset(manifest.script)}" nonce="${nonce}"></script>
</body>
</html>
`

  app.get(path, async (_request, reply) => {
    const nonce = randomBytes(18).toString('base64')
    return reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-security-policy', contentSecurityPolicy(nonce))
      .header('x-content-type-options', 'nosniff')
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'no-referrer')
      .send(page(nonce))
  })

  app.get<{ Params: { '*': string } }>(`${path}/assets/*`, async (request: FastifyRequest<{ Params: { '*': string } }>, reply: FastifyReply) => {
    const found = assets.get(request.params['*'])
    if (found === undefined) {
      reply.callNotFound()
      return reply
    }
    reply
      .header('content-type', found.contentType)
      .header('cache-control', IMMUTABLE)
      .header('x-content-type-options', 'nosniff')
      .header('cross-origin-resource-policy', 'same-origin')
    if (found.body.length < 1024) return reply.send(found.body)
    reply.header('vary', 'accept-encoding')
    if (!acceptsGzip(request.headers['accept-encoding'])) return reply.send(found.body)
    return reply.header('content-encoding', 'gzip').send(await gzipOnce(found.body))
  })
}
