import { readFileSync } from 'node:fs'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import mercurius from 'mercurius'
import type { Credential, VisualLayerClient } from '../upstream/client.js'
import type { GatewayContext } from './context.js'
import { errorFormatter } from './error-formatter.js'
import type { Resolvers } from './generated/types.js'
import { createLoaders } from './loaders.js'
import type { UnknownValueReporter } from './mapping/values.js'
import { Dataset } from './resolvers/dataset.js'
import { Mutation } from './resolvers/mutation.js'
import { Query } from './resolvers/query.js'
import { AppliedEnrichment, Task } from './resolvers/task.js'
import { DateTime } from './scalars.js'

/** The schema file at the project root; the same relative place from src/graphql and dist/graphql. */
export const SCHEMA_PATH = new URL('../../schema.graphql', import.meta.url)

export interface GraphQLOptions {
  vl: VisualLayerClient
  /** Who is calling decides the upstream credential; resolved before the query runs. */
  credentialOf: (request: FastifyRequest) => Credential
  onUnknown: UnknownValueReporter
}

export async function registerGraphQL (app: FastifyInstance, options: GraphQLOptions): Promise<void> {
  const resolvers: Resolvers = { Query, Mutation, Dataset, Task, AppliedEnrichment }
  await app.register(mercurius, {
    schema: readFileSync(SCHEMA_PATH, 'utf8'),
    resolvers: { ...resolvers, DateTime } as never,
    path: '/graphql',
    graphiql: false,
    errorFormatter,
    context: (request: FastifyRequest, reply: FastifyReply): GatewayContext => {
      const controller = new AbortController()
      // The caller went away before the answer: stop the upstream calls made for it.
      reply.raw.once('close', () => { if (!reply.raw.writableFinished) controller.abort() })
      const call = { credential: options.credentialOf(request), requestId: String(request.id), signal: controller.signal }
      return { requestId: call.requestId, call, vl: options.vl, loaders: createLoaders(options.vl, call), onUnknown: options.onUnknown }
    }
  })
}
