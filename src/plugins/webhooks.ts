import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { mapDataset } from '../domain/mapping/dataset.js'
import { mapTask } from '../domain/mapping/task.js'
import type { WebhookTime } from '../domain/webhooks/model.js'
import { wallTime } from '../domain/webhooks/model.js'
import type { Send } from '../domain/webhooks/sender.js'
import { WebhookService } from '../domain/webhooks/service.js'
import { systemResolver, type Resolver } from '../domain/webhooks/targets.js'
import { plain } from '../transports/rest/representation.js'

/*
 * `app.webhooks`: webhooks for partner services (docs/webhooks.md), or null in passthrough mode (the
 * gateway holds no credential there that outlives a request; /v1/webhooks answers 501). Events come
 * from the shared pollers (app.live) under the service account; the store is app.sharedState's (in this
 * process, or Redis). Closed before the pollers and the Redis link.
 */

declare module 'fastify' {
  interface FastifyInstance {
    webhooks: WebhookService | null
  }
}

export interface WebhooksPluginOptions {
  config: Pick<Config, 'authMode' | 'webhooks'>
  /** Tests only: the clock and timers of deliveries (Date.now and setTimeout by default). */
  time?: WebhookTime
  /** Tests only: how target host names resolve (the system's DNS by default). */
  resolver?: Resolver
  /** Tests only: how an attempt is sent (undici by default). */
  send?: Send
}

const webhooksPlugin: FastifyPluginAsync<WebhooksPluginOptions> = async (app, { config, time = wallTime, resolver = systemResolver, send }) => {
  if (config.authMode === 'passthrough') {
    app.decorate('webhooks', null)
    return
  }
  const settings = config.webhooks
  const log = app.log.child({ component: 'webhooks' })
  const onUnknown = (kind: string, value: string): void => {
    log.warn({ kind, value: value.slice(0, 100) }, `Visual Layer sent a ${kind} this gateway does not know; it is shown as UNKNOWN`)
  }
  const credential = { kind: 'service' } as const
  const store = app.sharedState.webhooks({ maxPending: settings.maxPending, logLimit: 100, time })
  const service = new WebhookService({
    store,
    live: app.live,
    invalidations: app.invalidations,
    credential,
    scope: app.auth.scopes.scopeOf(credential),
    settings: {
      maxPerOwner: settings.maxPerCaller,
      schedule: settings.retrySchedule,
      attemptTimeoutMs: settings.attemptTimeoutMs,
      disableAfterMs: settings.disableAfterMs,
      maxInFlightPerTarget: settings.maxInFlightPerTarget,
      maxResponseBytes: settings.maxResponseBytes,
      allowPrivateTargets: settings.allowPrivateTargets
    },
    time,
    resolver,
    log,
    represent: {
      dataset: (record) => plain(mapDataset(record, onUnknown), log),
      task: (record) => plain(mapTask(record, onUnknown), log)
    },
    ...(send === undefined ? {} : { send }),
    onAttempt: app.metrics.webhookAttempt,
    onDropped: () => { app.metrics.webhookDropped.inc() }
  })
  app.metrics.watchWebhooks(async () => {
    try {
      return { ...await service.backlog(), disabled: await service.disabledCount() }
    } catch {
      return { pending: Number.NaN, oldestAgeMs: null, disabled: Number.NaN }
    }
  })
  app.decorate('webhooks', service)
  app.addHook('onReady', async () => { await service.start() })
  app.addHook('preClose', async () => {
    await service.close()
    await store.close()
  })
}

export default fp(webhooksPlugin, { name: 'webhooks', decorators: { fastify: ['auth', 'live', 'invalidations', 'metrics', 'sharedState'] } })
