/*
 * Apollo Server 5 doing the bench's two operations as its documentation shows: the standalone server
 * (startStandaloneServer, node:http), a RESTDataSource per request for Visual Layer (it de-duplicates
 * identical GETs within the request, as a DataLoader would), the caller's Authorization header
 * forwarded (passthrough). The schema and resolvers are the yoga server's (schema.mjs). VL_BASE_URL:
 * the emulator.
 */
import { ApolloServer } from '@apollo/server'
import { startStandaloneServer } from '@apollo/server/standalone'
import { RESTDataSource } from '@apollo/datasource-rest'
import { answerControl } from './control.mjs'
import { resolvers, typeDefs } from './schema.mjs'

class VisualLayer extends RESTDataSource {
  constructor (authorization) {
    super()
    this.baseURL = process.env.VL_BASE_URL
    this.authorization = authorization
  }

  willSendRequest (_path, request) {
    if (this.authorization !== undefined) request.headers.authorization = this.authorization
  }

  async dataset (id) {
    try {
      return await this.get(`/api/v1/dataset/${encodeURIComponent(id)}`)
    } catch (err) {
      if (err?.extensions?.response?.status === 404) return null
      throw err
    }
  }
}

const server = new ApolloServer({ typeDefs, resolvers })
const { url } = await startStandaloneServer(server, {
  listen: { port: 0, host: '127.0.0.1' },
  context: async ({ req }) => {
    const api = new VisualLayer(req.headers.authorization)
    return {
      visualLayer: (path) => api.get(path),
      datasets: { load: (id) => api.dataset(id) }
    }
  }
})
answerControl(async () => { await server.stop() })
process.send?.({ type: 'ready', url: url.replace(/\/$/, '') })
