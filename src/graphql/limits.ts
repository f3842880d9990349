import { GraphQLError, Kind, type FragmentDefinitionNode, type SelectionSetNode, type ValidationContext, type ValidationRule } from 'graphql'

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
 * A ceiling on selection depth, as a validation rule so that HTTP (Mercurius) and WebSocket
 * (graphql-ws) documents pass the same checks. Depth multiplies upstream calls (a task's dataset's
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
  return (context: ValidationContext) => {
    // Counts stop just past the limit: spreads multiply, and the exact total is never needed.
    const over = maxFields + 1
    const countBelow = (selectionSet: SelectionSetNode, fragment: (name: string) => number): number => {
      let count = 0
      for (const selection of selectionSet.selections) {
        if (count >= over) break
        if (selection.kind === Kind.FIELD) {
          count += 1 + (selection.selectionSet === undefined ? 0 : countBelow(selection.selectionSet, fragment))
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
        if (countOf(operation.selectionSet) > maxFields) {
          context.reportError(new GraphQLError(
            `The document selects more than ${maxFields} fields, the most this gateway accepts. Split it into several requests.`,
            { nodes: [operation] }
          ))
        }
      }
    }
  }
}

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
