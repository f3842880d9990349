import { GraphQLScalarType, Kind } from 'graphql'
import { parseDateTime } from '../domain/date-time.js'

/**
 * DateTime: ISO-8601. Output is already normalised by the mapping; input accepts a date or a date
 * and time, with a zone or without one (then UTC, as Visual Layer writes it), and becomes UTC with a Z
 * (src/domain/date-time.ts). Errors are plain TypeErrors so that graphql-js names the argument or
 * variable and its location.
 */
export const DateTime = new GraphQLScalarType<string, string>({
  name: 'DateTime',
  serialize: (value) => String(value),
  parseValue: parseDateTime,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new TypeError('DateTime must be a string such as "2026-03-01T14:30:00Z".')
    return parseDateTime(ast.value)
  }
})
