import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import type { LiveSettings } from '../config.js'
import type { RunSharing } from '../domain/live/cluster-sharing.js'
import { Invalidations } from '../domain/live/invalidation.js'
import { LiveRegistry } from '../domain/live/registry.js'
import type { LiveTime } from '../domain/live/time.js'

/*
 * The pollers behind subscriptions (`app.live`) and the invalidations writes publish to them
 * (`app.invalidations`). Pollers stop before the upstream pool closes, ending their subscriptions.
 * With Redis (`app.sharedState.live`), one replica of the cluster polls each resource and scope
 * (leases), and invalidations reach every replica.
 */

declare module 'fastify' {
  interface FastifyInstance {
    live: LiveRegistry
    invalidations: Invalidations
    /** Live queries' executions shared over the cluster (with Redis), or null: each replica executes for itself. */
    liveRuns: RunSharing | null
  }
}

export interface LivePluginOptions {
  settings: LiveSettings
  /** The clock and timers of the pollers, the poll ceiling and the leases' heartbeat (tests move it themselves). */
  time?: LiveTime
}

const livePlugin: FastifyPluginAsync<LivePluginOptions> = async (app, { settings, time }) => {
  const invalidations = new Invalidations()
  const { scopes } = app.auth
  const log = app.log.child({ component: 'live' })
  const cluster = app.sharedState.live?.(settings.pollIntervalMs, settings.pollMaxIntervalMs, time) ?? null
  const leases = cluster?.leases ?? null
  const live = new LiveRegistry({
    vl: app.visualLayer,
    invalidations,
    intervalMs: settings.pollIntervalMs,
    maxIntervalMs: settings.pollMaxIntervalMs,
    maxPollsPerSecond: settings.maxPollsPerSecond,
    log,
    scopeOf: (credential) => scopes.scopeOf(credential),
    onPoll: app.metrics.poll,
    ...(time === undefined ? {} : { time }),
    ...(leases === null ? {} : { sharing: leases.share })
  })
  const sharing = cluster === null ? null : cluster.bridge(invalidations, app.visualLayer, cluster.leases.stateMs)
  // With Redis answering, start-up waits (a little) for the invalidations channel, so that a write
  // through another replica right after start-up is heard; with Redis away it does not wait at all.
  if (sharing !== null && cluster?.up === true) {
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<boolean>((resolve) => { timer = setTimeout(() => { resolve(false) }, 2_000) })
    if (!await Promise.race([sharing.joined, late])) log.warn('Redis: the invalidations channel is not subscribed yet; writes on other replicas reach this one once it is')
    clearTimeout(timer)
  }
  app.metrics.watchPollers(() => live.size)
  if (leases !== null) app.metrics.watchLeases(() => leases.held)
  app.decorate('invalidations', invalidations)
  app.decorate('live', live)
  app.decorate('liveRuns', cluster?.runs ?? null)
  // preClose runs before every onClose, so before the upstream pool and the Redis link close.
  app.addHook('preClose', async () => {
    sharing?.stop()
    live.close()
    await leases?.drain()
  })
}

export default fp(livePlugin, { name: 'live', decorators: { fastify: ['auth', 'visualLayer', 'metrics', 'sharedState'] } })
