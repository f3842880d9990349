import {
  GraphQLError, Kind, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionNode, type SelectionSetNode, type ValidationContext,
  type ValidationRule
} from 'graphql'

/**
 * Measures every fragment once per document and reuses the result wherever it is spread: walking a
 * spread again each time made a document of 30 fragments, each spreading the next twice, cost 2^30
 * walks (minutes of a blocked event loop). Fragment cycles count as nothing here: graphql's own
 * NoFragmentCycles rule refuses them.
 */
function measure (
  context: ValidationContext,
  combine: (selectionSet: SelectionSetNode, fragment: (name: string) => number) => number
): (selectionSet: SelectionSetNode) => number {
  const fragments = new Map<string, FragmentDefinitionNode>()
  for (const definition of context.getDocument().definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition)
  }
  const measured = new Map<string, number>()
  const visiting = new Set<string>()
  const fragment = (name: string): number => {
    const known = measured.get(name)
    if (known !== undefined) return known
    const definition = fragments.get(name)
    if (definition === undefined || visiting.has(name)) return 0
    visiting.add(name)
    const value = combine(definition.selectionSet, fragment)
    visiting.delete(name)
    measured.set(name, value)
    return value
  }
  return (selectionSet) => combine(selectionSet, fragment)
}

/**
 * A ceiling on selection depth, as a validation rule so that the documents of every door (GraphQL
 * over HTTP, WebSocket, SSE) pass the same checks. Depth multiplies upstream calls (a task's dataset's
 * source's tasks...), so a document deeper than the contract needs is refused before it runs.
 */
export function depthLimit (maxDepth: number): ValidationRule {
  return (context: ValidationContext) => {
    const depthBelow = (selectionSet: SelectionSetNode, fragment: (name: string) => number): number => {
      let deepest = 0
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) {
          if (selection.name.value.startsWith('__')) continue
          deepest = Math.max(deepest, 1 + (selection.selectionSet === undefined ? 0 : depthBelow(selection.selectionSet, fragment)))
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          deepest = Math.max(deepest, depthBelow(selection.selectionSet, fragment))
        } else {
          deepest = Math.max(deepest, fragment(selection.name.value))
        }
      }
      return deepest
    }
    const depthOf = measure(context, depthBelow)
    return {
      OperationDefinition (operation) {
        if (depthOf(operation.selectionSet) > maxDepth) {
          context.reportError(new GraphQLError(
            `The document nests fields more than ${maxDepth} levels deep, the most this gateway accepts. Split it into several requests.`,
            { nodes: [operation] }
          ))
        }
      }
    }
  }
}

/**
 * A ceiling on how many fields a document selects, fragments counted where they are spread. Depth
 * alone lets a document repeat one expensive field under a thousand aliases; each would cost
 * Visual Layer a call.
 */
export function fieldLimit (maxFields: number): ValidationRule {
  return countRule(
    maxFields,
    (selection) => selection.kind === Kind.FIELD ? 1 : 0,
    () => 0,
    `The document selects more than ${maxFields} fields, the most this gateway accepts. Split it into several requests.`
  )
}

/**
 * A count over every selection of an operation, fragments counted where they are spread, stopping
 * just past `max` (spreads multiply, the exact total is never needed), what each selection adds
 * given by `own`: fields for fieldLimit, aliases and directives for the others.
 */
function countRule (
  max: number,
  own: (selection: SelectionNode) => number,
  ownOfOperation: (operation: OperationDefinitionNode) => number,
  message: string
): ValidationRule {
  return (context: ValidationContext) => {
    const over = max + 1
    const countBelow = (selectionSet: SelectionSetNode, fragment: (name: string) => number): number => {
      let count = 0
      for (const selection of selectionSet.selections) {
        if (count >= over) break
        count += own(selection)
        if (selection.kind === Kind.FIELD) {
          if (selection.selectionSet !== undefined) count += countBelow(selection.selectionSet, fragment)
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          count += countBelow(selection.selectionSet, fragment)
        } else {
          count += fragment(selection.name.value)
        }
      }
      return Math.min(count, over)
    }
    const countOf = measure(context, countBelow)
    return {
      OperationDefinition (operation) {
        if (countOf(operation.selectionSet) + ownOfOperation(operation) > max) context.reportError(new GraphQLError(message, { nodes: [operation] }))
      }
    }
  }
}

const directivesOf = (node: { readonly directives?: readonly unknown[] }): number => node.directives?.length ?? 0

/**
 * A ceiling on aliases. Each alias of a field that reads Visual Layer is one more call (240 aliases
 * of `tasks` are 240 calls); the cost limit weighs them too, this stops the cheap floods early.
 * Written beside fieldLimit on its fragment-memoised walk rather than as a dependency (GraphQL
 * Armor's max-aliases): the same 20 lines, and fragments measured once.
 */
export function aliasLimit (maxAliases: number): ValidationRule {
  return countRule(
    maxAliases,
    (selection) => selection.kind === Kind.FIELD && selection.alias !== undefined ? 1 : 0,
    () => 0,
    `The document uses more than ${maxAliases} aliases, the most this gateway accepts. Ask for several items with one field (datasetsByIds), or split the document.`
  )
}

/**
 * A ceiling on directives (on the operation, its fields and fragments, fragments counted where
 * spread): graphql-js evaluates each, and a flood of them is work no client needs.
 */
export function directiveLimit (maxDirectives: number): ValidationRule {
  return countRule(
    maxDirectives,
    directivesOf,
    directivesOf,
    `The document uses more than ${maxDirectives} directives, the most this gateway accepts. Split it into several requests.`
  )
}

/**
 * INTROSPECTION=false: `__schema` and `__type` are refused (`__typename` still answers), one error
 * per field asked. Not graphql-js' NoSchemaIntrospectionCustomRule, which also reports each field
 * selected inside them (queryType, types, ...): a dozen errors for GraphiQL's one query.
 */
export const noIntrospection: ValidationRule = (context: ValidationContext) => ({
  Field (field) {
    const name = field.name.value
    if (name !== '__schema' && name !== '__type') return
    context.reportError(new GraphQLError(
      `Introspection is turned off on this gateway: ${name} cannot be queried. Ask its operators for the schema (schema.graphql).`,
      { nodes: [field] }
    ))
  }
})

/** HTTP cannot stream: a subscription sent there is told where subscriptions run. */
export const noSubscriptionOverHttp: ValidationRule = (context: ValidationContext) => ({
  OperationDefinition (operation) {
    if (operation.operation === 'subscription') {
      context.reportError(new GraphQLError(
        'Subscriptions run over WebSocket at this same /graphql path (the graphql-ws client), or over Server-Sent Events at /graphql/stream (the graphql-sse client); a plain HTTP request answers only queries and mutations.',
        { nodes: [operation] }
      ))
    }
  }
})

/**
 * `@live` keeps a query's result up to date; on a mutation or a subscription it is refused with why,
 * before graphql's own rule says only that the directive may not be used there.
 */
export const liveOnQueriesOnly: ValidationRule = (context: ValidationContext) => ({
  OperationDefinition (operation) {
    if (operation.operation === 'query') return
    const live = operation.directives?.find((directive) => directive.name.value === 'live')
    if (live === undefined) return
    const why = operation.operation === 'mutation'
      ? 'a mutation runs once, and its writes reach live queries and subscriptions by themselves'
      : 'a subscription streams its events already'
    context.reportError(new GraphQLError(`@live applies to queries only: ${why}. Remove @live, or put it on a query.`, { nodes: [live] }))
  }
})
