import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { FastifyInstance } from 'fastify'

/*
 * The reference page of /v1 at /v1/docs: Swagger UI from the swagger-ui-dist package, read from
 * node_modules when the gateway starts, so the page works with no network at all. It loads
 * /v1/openapi.json; its Authorize button sets the Bearer token for "Try it out". Only these files
 * are served; the page's Content-Security-Policy allows this origin only, no inline script.
 */

const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  // Swagger UI sets inline styles on its elements.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join('; ')

interface Asset { body: Buffer, type: string, etag: string }

function asset (body: Buffer | string, type: string): Asset {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body
  return { body: bytes, type, etag: `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"` }
}

/** Registers GET /docs and its assets under the caller's prefix (/v1); `documentUrl` is the OpenAPI document's path. */
export function registerDocs (app: FastifyInstance, documentUrl: string, config: Record<string, unknown>): void {
  const dist = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'))
  const assets: Record<string, Asset> = {
    'swagger-ui.css': asset(readFileSync(join(dist, 'swagger-ui.css')), 'text/css; charset=utf-8'),
    'swagger-ui-bundle.js': asset(readFileSync(join(dist, 'swagger-ui-bundle.js')), 'text/javascript; charset=utf-8'),
    // A write tried from the page is sent as JSON even without a body: the gateway refuses others as possibly cross-site (CSRF).
    'start.js': asset(
      `window.ui = SwaggerUIBundle({ url: ${JSON.stringify(documentUrl)}, dom_id: '#swagger-ui', deepLinking: true, persistAuthorization: false, ` +
      'requestInterceptor: (request) => { if (request.method === \'POST\' && request.headers[\'Content-Type\'] === undefined) ' +
      'request.headers[\'Content-Type\'] = \'application/json\'; return request } })\n',
      'text/javascript; charset=utf-8'
    )
  }
  const page = asset(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Visual Layer gateway REST API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/start.js"></script>
</body>
</html>
`, 'text/html; charset=utf-8')

  app.get('/docs', { config }, async (request, reply) => {
    void reply.header('etag', page.etag).header('cache-control', 'no-cache').header('content-security-policy', CONTENT_SECURITY_POLICY)
    if (request.headers['if-none-match'] === page.etag) return await reply.code(304).send()
    return await reply.type(page.type).send(page.body)
  })
  app.get('/docs/:file', { config }, async (request, reply) => {
    const file = assets[(request.params as { file: string }).file]
    if (file === undefined) return await reply.callNotFound()
    void reply.header('etag', file.etag).header('cache-control', 'public, max-age=3600')
    if (request.headers['if-none-match'] === file.etag) return await reply.code(304).send()
    return await reply.type(file.type).send(file.body)
  })
}
