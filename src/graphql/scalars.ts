import { GraphQLError, GraphQLScalarType, Kind } from 'graphql'

/**
 * DateTime: ISO-8601. Output is already normalised by the mapping; input accepts a date or a date
 * and time, with a zone or without one (then UTC, as Visual Layer writes it), and becomes UTC with a Z.
 */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i

export function parseDateTime (value: unknown): string {
  if (typeof value !== 'string' || !ISO_8601.test(value.trim())) {
    throw new GraphQLError(`DateTime must be an ISO-8601 date or date-time such as 2026-03-01T14:30:00Z; got ${JSON.stringify(value)}.`, { extensions: { code: 'BAD_USER_INPUT' } })
  }
  const text = value.trim().replace(' ', 'T').replace(/(\.\d{3})\d+/, '$1')
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/i.test(text) || !text.includes('T') ? text : `${text}Z`
  const ms = Date.parse(zoned)
  if (Number.isNaN(ms)) {
    throw new GraphQLError(`DateTime ${JSON.stringify(value)} is not a real point in time.`, { extensions: { code: 'BAD_USER_INPUT' } })
  }
  return new Date(ms).toISOString().replace('.000Z', 'Z')
}

export const DateTime = new GraphQLScalarType<string, string>({
  name: 'DateTime',
  serialize: (value) => String(value),
  parseValue: parseDateTime,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) {
      throw new GraphQLError('DateTime must be a string such as "2026-03-01T14:30:00Z".', { extensions: { code: 'BAD_USER_INPUT' } })
    }
    return parseDateTime(ast.value)
  }
})
