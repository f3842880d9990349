import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import type { LiveSettings } from '../config.js'
import { Invalidations } from '../domain/live/invalidation.js'
import { LiveRegistry } from '../domain/live/registry.js'

/*
 * The pollers behind subscriptions (`app.live`) and the invalidations writes publish to them
 * (`app.invalidations`). Pollers stop before the upstream pool closes, ending their subscriptions.
 */

declare module 'fastify' {
  interface FastifyInstance {
    live: LiveRegistry
    invalidations: Invalidations
  }
}

export interface LivePluginOptions {
  settings: LiveSettings
}

const livePlugin: FastifyPluginAsync<LivePluginOptions> = async (app, { settings }) => {
  const invalidations = new Invalidations()
  const { scopes } = app.auth
  const live = new LiveRegistry({
    vl: app.vl,
    invalidations,
    intervalMs: settings.pollIntervalMs,
    maxPollsPerSecond: settings.maxPollsPerSecond,
    log: app.log.child({ component: 'live' }),
    scopeOf: (credential) => scopes.scopeOf(credential),
    onPoll: app.metrics.poll
  })
  app.metrics.watchPollers(() => live.size)
  app.decorate('invalidations', invalidations)
  app.decorate('live', live)
  // preClose runs before every onClose, so before the upstream pool closes.
  app.addHook('preClose', async () => { live.close() })
}

export default fp(livePlugin, { name: 'live', decorators: { fastify: ['auth', 'vl', 'metrics'] } })
