/**
 * Standalone Visual Layer emulator (`npm run emulator`): real clock, pino JSON logs on stdout.
 * EMULATOR_PORT (default 4010) and EMULATOR_HOST (default 127.0.0.1) choose where it listens.
 */
import { DEMO_ACCOUNTS, startEmulator } from './index.js'

function parsePort (raw: string | undefined): number | null {
  if (raw === undefined || raw === '') return 4010
  if (!/^\d+$/.test(raw)) return null
  const port = Number(raw)
  return port <= 65535 ? port : null
}

async function main (): Promise<void> {
  const port = parsePort(process.env.EMULATOR_PORT)
  if (port === null) {
    process.stderr.write(`EMULATOR_PORT must be a port number from 0 to 65535 (got ${JSON.stringify(process.env.EMULATOR_PORT)})\n`)
    process.exit(1)
  }
  const host = process.env.EMULATOR_HOST?.trim() || '127.0.0.1'
  const emulator = await startEmulator({ clock: 'real', host, port, logger: { level: process.env.LOG_LEVEL ?? 'info' } })
  const keys = Object.values(DEMO_ACCOUNTS).map((account) => `${account.name}: key ${account.apiKey} secret ${account.apiSecret}`).join('; ')
  emulator.app.log.info({ url: emulator.url }, `Visual Layer emulator listening at ${emulator.url} (demo accounts: ${keys})`)

  let closing = false
  const shutdown = (signal: NodeJS.Signals): void => {
    if (closing) {
      // A second signal while closing: give up waiting.
      process.exit(1)
    }
    closing = true
    emulator.app.log.info({ signal }, 'closing the emulator')
    emulator.close().then(() => process.exit(0), (error: unknown) => {
      emulator.app.log.error({ err: error }, 'emulator did not close cleanly')
      process.exit(1)
    })
  }
  process.on('SIGINT', shutdown)
  process.on('SIGTERM', shutdown)
}

main().catch((error: unknown) => {
  process.stderr.write(`Visual Layer emulator failed to start: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
