import { readFileSync } from 'node:fs'
import { buildSchema as parseSchema, GraphQLObjectType, GraphQLScalarType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql'
import type { GatewayContext } from './context.js'
import type { Resolvers } from './generated/resolvers.js'
import { Dataset } from './resolvers/dataset.js'
import { EnrichDatasetPayload, Mutation } from './resolvers/mutation.js'
import { Query } from './resolvers/query.js'
import { Subscription } from './resolvers/subscription.js'
import { AppliedEnrichment, Task } from './resolvers/task.js'
import { DateTime } from './scalars.js'
import { traced } from './traced.js'

/**
 * The executable schema: schema.graphql with every resolver (Subscription's too) and the DateTime
 * scalar, built once and complete before any transport sees it. The operation pipeline every door runs
 * through is given this one object, so nothing edits what another door runs.
 *
 * Resolvers are attached on the schema's fields (a field's `resolve`, a subscription
 * field's `subscribe` and `resolve`, a scalar's own properties), rather than by @graphql-tools'
 * makeExecutableSchema, which rebuilds every type: the same schema, no new dependency.
 */

/** The schema file at the project root; the same relative place from src/graphql and dist/graphql. */
const SCHEMA_PATH = new URL('../../schema.graphql', import.meta.url)

type Resolver = GraphQLFieldResolver<unknown, GatewayContext>

const RESOLVERS: Resolvers = { Query, Mutation, EnrichDatasetPayload, Subscription, Dataset, Task, AppliedEnrichment, DateTime }

export function buildSchema (): GraphQLSchema {
  const schema = parseSchema(readFileSync(SCHEMA_PATH, 'utf8'))
  for (const [typeName, resolvers] of Object.entries(RESOLVERS) as Array<[string, object]>) {
    const type = schema.getType(typeName)
    if (type instanceof GraphQLScalarType) {
      Object.assign(type, resolvers)
      continue
    }
    if (!(type instanceof GraphQLObjectType)) throw new Error(`${typeName} is not an object type or scalar of the schema`)
    const fields = type.getFields()
    for (const [name, resolver] of Object.entries(resolvers) as Array<[string, unknown]>) {
      const field = fields[name]
      if (field === undefined) throw new Error(`${typeName}.${name} is not in the schema`)
      // A subscription field brings `subscribe` and `resolve`; any other field is its resolve function.
      // Every plain field resolver of the map calls Visual Layer (through loaders or the domain): traced.
      if (typeof resolver === 'function') field.resolve = traced(typeName, name, resolver as Resolver) as typeof field.resolve
      else Object.assign(field, resolver)
    }
  }
  readPropertiesThroughResolvers(schema)
  return schema
}

/**
 * Every other field of an object type reads its parent's property through a resolver of its own, as
 * graphql-js's default resolver would. The pipeline executes with graphql-jit, which inlines a
 * field without a resolver as a bare property read outside its error handling: a field Visual Layer
 * broke is a getter that throws (src/domain/mapping/broken.ts), and its throw would escape the
 * execution and leave the operation unanswered. A resolver's throw is caught and reported at the
 * field's own path, and a value it returns as a promise is awaited.
 */
function readPropertiesThroughResolvers (schema: GraphQLSchema): void {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!(type instanceof GraphQLObjectType) || type.name.startsWith('__')) continue
    for (const field of Object.values(type.getFields())) {
      if (field.resolve !== undefined || field.subscribe !== undefined) continue
      const name = field.name
      // As graphql-js's defaultFieldResolver: a method is called with the field's arguments.
      const read: Resolver = (parent, args, context, info) => {
        if (typeof parent !== 'object' || parent === null) return undefined
        const value = (parent as Record<string, unknown>)[name]
        return typeof value === 'function' ? (value as (...given: unknown[]) => unknown).call(parent, args, context, info) : value
      }
      PROPERTY_READERS.add(read)
      field.resolve = read
    }
  }
}

const PROPERTY_READERS = new WeakSet<object>()

/** Whether a field's resolver only reads its parent's property (it never calls Visual Layer). */
export function readsProperty (resolve: unknown): boolean {
  return typeof resolve === 'function' && PROPERTY_READERS.has(resolve)
}
