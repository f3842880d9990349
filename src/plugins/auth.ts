import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { createAuth, type Auth } from '../auth/index.js'
import type { Config } from '../config.js'

/* Who is calling: `app.auth` authenticates an Authorization value for every door, and keeps the credential scopes. */

declare module 'fastify' {
  interface FastifyInstance {
    auth: Auth
  }
}

export interface AuthPluginOptions {
  config: Config
}

const authPlugin: FastifyPluginAsync<AuthPluginOptions> = async (app, options) => {
  app.decorate('auth', await createAuth(app, options.config))
}

export default fp(authPlugin, { name: 'auth' })
