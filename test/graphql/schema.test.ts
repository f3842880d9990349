import { GraphQLObjectType, GraphQLScalarType, type GraphQLSchema } from 'graphql'
import { describe, expect, it } from 'vitest'
import { buildSchema } from '../../src/graphql/schema.js'

/**
 * The executable schema is built once, complete, and given as it is to Mercurius and to the
 * WebSocket transport (issue 11: Mercurius' schema was edited in place after registration so that
 * the WebSocket transport could read Subscription resolvers back from it).
 */

function fieldsOf (schema: GraphQLSchema, name: string): Array<[string, string, string]> {
  const type = schema.getType(name)
  if (!(type instanceof GraphQLObjectType)) throw new Error(`${name} is not an object type`)
  return Object.values(type.getFields()).map((field) => [field.name, typeof field.resolve, typeof field.subscribe])
}

describe('buildSchema', () => {
  const schema = buildSchema()

  it('carries every Query and Mutation resolver, and each subscription its subscribe and resolve', () => {
    expect(fieldsOf(schema, 'Query').filter(([, resolve]) => resolve !== 'function')).toEqual([])
    expect(fieldsOf(schema, 'Mutation')).toEqual([['enrichDataset', 'function', 'undefined'], ['abortTask', 'function', 'undefined'], ['retryTask', 'function', 'undefined']])
    expect(fieldsOf(schema, 'Subscription')).toEqual([['datasetStatusChanged', 'function', 'function'], ['taskUpdated', 'function', 'function']])
  })

  it("reads DateTime with the gateway's scalar", () => {
    const dateTime = schema.getType('DateTime')
    if (!(dateTime instanceof GraphQLScalarType)) throw new Error('DateTime is not a scalar')
    expect(dateTime.parseValue('2026-03-01 14:30')).toBe('2026-03-01T14:30:00Z')
    expect(() => dateTime.parseValue('2026-02-30')).toThrow('DateTime "2026-02-30" is not a real point in time.')
  })
})
