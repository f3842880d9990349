import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createServer } from 'vite'
import { DASHBOARD_MANIFEST, dashboardConfig } from './config.js'

/*
 * `npm run dashboard`: the gateway as `npm start` runs it (on its embedded emulator, unless
 * VL_BASE_URL says otherwise), given this app's manifest with TRUSTED_DOCUMENTS_ONLY=true, and
 * Vite's dev server for the app, which forwards /graphql to it. With GATEWAY_URL set, no gateway is
 * started: the app talks to that one (started with the same manifest). Ctrl-C stops both.
 */

const serverEntry = fileURLToPath(new URL('../../dist/server.js', import.meta.url))
const port = Number(process.env.DASHBOARD_PORT ?? 5173)
const say = (line: string): void => { process.stdout.write(`[dashboard] ${line}\n`) }

let gatewayUrl = process.env.GATEWAY_URL
let stopGateway = (): void => {}
if (gatewayUrl === undefined) {
  if (!existsSync(serverEntry)) {
    process.stderr.write('[dashboard] dist/server.js is missing: run `npm run build` first (npm ci does it too).\n')
    process.exit(1)
  }
  const gatewayPort = process.env.PORT ?? '4000'
  gatewayUrl = `http://127.0.0.1:${gatewayPort}`
  say(`starting the gateway (npm start) on ${gatewayUrl} with TRUSTED_DOCUMENTS=${DASHBOARD_MANIFEST} TRUSTED_DOCUMENTS_ONLY=true`)
  const gateway = spawn(process.execPath, [serverEntry], {
    env: { ...process.env, PORT: gatewayPort, TRUSTED_DOCUMENTS: DASHBOARD_MANIFEST, TRUSTED_DOCUMENTS_ONLY: 'true' },
    stdio: ['ignore', 'inherit', 'inherit']
  })
  gateway.on('exit', (code, signal) => {
    say(`the gateway stopped (${signal ?? `exit code ${code ?? 0}`})`)
    process.exit(code ?? 0)
  })
  stopGateway = () => { gateway.kill('SIGTERM') }
} else {
  say(`using the gateway at ${gatewayUrl} (it must load ${DASHBOARD_MANIFEST} as TRUSTED_DOCUMENTS)`)
}

const vite = await createServer({ ...dashboardConfig(gatewayUrl), server: { ...dashboardConfig(gatewayUrl).server, port, strictPort: true } })
await vite.listen()
say(`open http://127.0.0.1:${port}/ (Vite dev server; /graphql goes to ${gatewayUrl})`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    say(`${signal}: stopping`)
    stopGateway()
    void vite.close()
  })
}
