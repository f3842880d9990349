import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import type { RemoteUpstream } from '../config.js'
import { VisualLayerClient } from '../upstream/client.js'
import { ServiceTokens } from '../upstream/token.js'

/*
 * The Visual Layer client, one per gateway: `app.visualLayer`, closed with the app. It tells the credential
 * scopes (`app.auth`) which tokens Visual Layer accepted or refused.
 */

declare module 'fastify' {
  interface FastifyInstance {
    visualLayer: VisualLayerClient
  }
}

export interface UpstreamPluginOptions {
  settings: RemoteUpstream
  /** Tests only: the circuit breakers' clock (milliseconds); performance.now by default. */
  breakerClock?: () => number
}

const upstreamPlugin: FastifyPluginAsync<UpstreamPluginOptions> = async (app, { settings, breakerClock }) => {
  const { scopes } = app.auth
  const { apiKey, apiSecret } = settings
  const visualLayer = new VisualLayerClient({
    settings,
    serviceTokens: apiKey !== null && apiSecret !== null ? new ServiceTokens({ apiKey, apiSecret }) : null,
    logger: app.log.child({ component: 'upstream' }),
    onVerdict: (credential, accepted) => { if (accepted) scopes.accepted(credential); else scopes.refused(credential) },
    scopeOf: (credential) => scopes.scopeOf(credential),
    standingOf: (credential) => scopes.standingOf(credential),
    observer: app.metrics.upstreamObserver(new URL(settings.baseUrl).hostname),
    ...(breakerClock === undefined ? {} : { breakerClock })
  })
  app.metrics.watchBreaker(() => visualLayer.breakerState, () => visualLayer.scopedBreakersOpen)
  app.decorate('visualLayer', visualLayer)
  app.addHook('onClose', async () => { await visualLayer.close() })
}

export default fp(upstreamPlugin, { name: 'upstream', decorators: { fastify: ['auth', 'metrics'] } })
