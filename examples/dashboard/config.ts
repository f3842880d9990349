import { fileURLToPath } from 'node:url'
import react from '@vitejs/plugin-react'
import type { InlineConfig, ProxyOptions } from 'vite'

/*
 * The dashboard's Vite configuration, shared by vite.config.ts (the `vite` command), `npm run
 * dashboard` (start.ts) and the browser test: the app in this folder, and /graphql (HTTP and
 * WebSocket) forwarded to the gateway, so that the page talks to its own origin only and the
 * gateway needs no CORS.
 */

export const DASHBOARD_ROOT = fileURLToPath(new URL('.', import.meta.url))

/** Where the gateway's persisted-documents manifest for this app is (TRUSTED_DOCUMENTS). */
export const DASHBOARD_MANIFEST = fileURLToPath(new URL('./app/gql/persisted-documents.json', import.meta.url))

export function gatewayProxy (gatewayUrl: string): Record<string, ProxyOptions> {
  return { '/graphql': { target: gatewayUrl, ws: true } }
}

export function dashboardConfig (gatewayUrl: string): InlineConfig {
  return {
    configFile: false,
    root: DASHBOARD_ROOT,
    plugins: [react()],
    server: { host: '127.0.0.1', proxy: gatewayProxy(gatewayUrl) },
    preview: { host: '127.0.0.1', proxy: gatewayProxy(gatewayUrl) },
    build: { outDir: 'dist', emptyOutDir: true }
  }
}
