import type { FastifyInstance } from 'fastify'
import { buildApp, type BuildOptions } from './app.js'
import { deepFreeze, hasRemoteUpstream, type Config, type RemoteUpstream } from './config.js'
import { DEMO_ACCOUNTS, startEmulator, type RunningEmulator } from './emulator/index.js'

export interface Gateway {
  readonly app: FastifyInstance
  /** The embedded emulator, when VL_BASE_URL is not set. */
  readonly emulator: RunningEmulator | null
}

/**
 * The gateway with its upstream: with no VL_BASE_URL, a Visual Layer emulator started in-process on
 * a loopback port and its demo service account; otherwise the configured Visual Layer. The emulator
 * is closed with the app.
 */
export async function createGateway (config: Config, options: BuildOptions = {}): Promise<Gateway> {
  if (hasRemoteUpstream(config)) {
    const app = await buildApp(config, options)
    warnIfOpen(app, config)
    return { app, emulator: null }
  }
  const emulator = await startEmulator({ host: '127.0.0.1', port: 0, clock: 'real' })
  const account = DEMO_ACCOUNTS.primary
  const resolved: Config<RemoteUpstream> = deepFreeze({
    ...config,
    upstream: { ...config.upstream, kind: 'remote', baseUrl: emulator.url, apiKey: account.apiKey, apiSecret: account.apiSecret }
  })
  let app: FastifyInstance
  try {
    app = await buildApp(resolved, options)
  } catch (err) {
    await emulator.close()
    throw err
  }
  app.addHook('onClose', async () => { await emulator.close() })
  app.log.info(
    { emulator: emulator.url, account: account.name, apiKey: account.apiKey },
    `No VL_BASE_URL set: running on the embedded Visual Layer emulator at ${emulator.url} as the demo account "${account.name}"`
  )
  warnIfOpen(app, config)
  return { app, emulator }
}

function warnIfOpen (app: FastifyInstance, config: Config): void {
  if (config.authMode === 'none') {
    app.log.warn('AUTH_MODE=none: callers are not authenticated and every request acts as the service account. Use this only on a machine of your own.')
  }
}
