/*
 * graphql-yoga 5 doing the bench's two operations as its documentation shows: a schema of type
 * definitions and resolvers (createSchema), one DataLoader per request in the context for datasets,
 * undici for the upstream calls, node:http's createServer. The schema and resolvers (schema.mjs) are
 * shared with the Apollo Server bench server. The caller's
 * Authorization header is forwarded to Visual Layer (passthrough). VL_BASE_URL: the emulator.
 */
import { createServer } from 'node:http'
import DataLoader from 'dataloader'
import { createSchema, createYoga } from 'graphql-yoga'
import { Pool } from 'undici'
import { answerControl } from './control.mjs'
import { resolvers, typeDefs } from './schema.mjs'

const upstream = new Pool(process.env.VL_BASE_URL, { connections: 64 })

async function visualLayer (path, authorization) {
  const { statusCode, body } = await upstream.request({ method: 'GET', path, headers: { authorization } })
  if (statusCode === 404) {
    await body.dump()
    return null
  }
  if (statusCode !== 200) {
    await body.dump()
    throw new Error(`Visual Layer answered ${statusCode} to ${path}`)
  }
  return await body.json()
}

const yoga = createYoga({
  schema: createSchema({ typeDefs, resolvers }),
  graphiql: false,
  logging: false,
  // A DataLoader per request, as the DataLoader documentation asks: it batches and caches that request's loads.
  context: ({ request }) => {
    const authorization = request.headers.get('authorization')
    return {
      visualLayer: (path) => visualLayer(path, authorization),
      datasets: new DataLoader((ids) => Promise.all(ids.map((id) => visualLayer(`/api/v1/dataset/${encodeURIComponent(id)}`, authorization))))
    }
  }
})

const server = createServer(yoga)
answerControl(async () => {
  await new Promise((resolve) => { server.close(resolve) })
  await upstream.close()
})
server.listen(0, '127.0.0.1', () => {
  process.send?.({ type: 'ready', url: `http://127.0.0.1:${server.address().port}` })
})
