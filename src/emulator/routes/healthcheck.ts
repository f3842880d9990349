import type { RouteSpec } from '../route-context.js'

/** The one unauthenticated Visual Layer route. */
export function healthcheckRoutes (): RouteSpec[] {
  return [
    {
      method: 'GET',
      url: '/api/v1/healthcheck',
      handler: async () => ({ status: 'Green', 'service-health-message': 'none', version: '2.42.190' })
    }
  ]
}
