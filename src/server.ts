import { readFileSync } from 'node:fs'
import closeWithGrace from 'close-with-grace'
import { ConfigError, loadConfig, VARIABLE_NAMES } from './config.js'
import { suspectedNames } from './config-names.js'
import { createGateway } from './start.js'
import { startMetricsExport } from './otlp-metrics.js'
import { startTracing } from './otlp-traces.js'

/** The only module that touches `process`: reads the environment (and the secret files it names), listens, handles signals. */
async function main (): Promise<void> {
  let config
  try {
    config = loadConfig(process.env, (path) => readFileSync(path, 'utf8'))
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    process.stderr.write(`${err.message}\n`)
    process.exit(1)
  }

  // Before the app is built: its spans go to the provider registered here.
  const tracing = startTracing(config.tracing)
  const { app } = await createGateway(config)
  for (const { given, likely } of suspectedNames(process.env, VARIABLE_NAMES)) {
    app.log.warn({ variable: given, likely }, `${given} is not a setting of this gateway and is ignored: did you mean ${likely}?`)
  }
  // The metrics of the app just built, read from its registry (GET /metrics serves the same).
  const metricsExport = startMetricsExport(config.tracing, app.metrics.registry)
  if (tracing !== null) app.log.info({ endpoint: config.tracing.endpoint, service: config.tracing.serviceName }, 'exporting traces and metrics over OTLP')
  // SIGHUP reloads the trusted documents manifest (a bad one is logged, the one in use kept), as daemons
  // reload their configuration; it does not stop the gateway.
  process.on('SIGHUP', () => { app.reloadTrustedDocuments() })
  closeWithGrace({ delay: config.shutdownTimeoutMs, logger: app.log, skip: ['SIGHUP'] }, async ({ signal, err }) => {
    if (err !== undefined) app.log.error({ err }, 'shutting down after an unexpected error')
    else app.log.info({ signal }, 'shutting down: finishing in-flight requests')
    await app.close()
    await Promise.all([tracing?.shutdown(), metricsExport?.shutdown()])
  })
  await app.listen({ port: config.port, host: config.host })
}

main().catch((err: unknown) => {
  // A setting found bad once the app is built (a TRUSTED_DOCUMENTS manifest) reads as one found in the environment.
  process.stderr.write(err instanceof ConfigError ? `${err.message}\n` : `The gateway could not start: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
