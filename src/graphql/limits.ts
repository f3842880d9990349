import { GraphQLError, Kind, type ASTNode, type FragmentDefinitionNode, type ValidationContext, type ValidationRule } from 'graphql'

/**
 * A ceiling on selection depth, as a validation rule so that HTTP (Mercurius) and WebSocket
 * (graphql-ws) documents pass the same checks. Depth multiplies upstream calls (a task's dataset's
 * source's tasks...), so a document deeper than the contract needs is refused before it runs.
 */
export function depthLimit (maxDepth: number): ValidationRule {
  return (context: ValidationContext) => {
    const fragments = new Map<string, FragmentDefinitionNode>()
    for (const definition of context.getDocument().definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition)
    }
    const depthOf = (node: ASTNode, depth: number, visiting: Set<string>): number => {
      if (!('selectionSet' in node) || node.selectionSet === undefined) return depth
      let deepest = depth
      for (const selection of node.selectionSet.selections) {
        if (selection.kind === Kind.FIELD) {
          if (selection.name.value.startsWith('__')) continue
          deepest = Math.max(deepest, depthOf(selection, depth + 1, visiting))
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          deepest = Math.max(deepest, depthOf(selection, depth, visiting))
        } else {
          const name = selection.name.value
          const fragment = fragments.get(name)
          if (fragment === undefined || visiting.has(name)) continue
          deepest = Math.max(deepest, depthOf(fragment, depth, new Set([...visiting, name])))
        }
        if (deepest > maxDepth) return deepest
      }
      return deepest
    }
    return {
      OperationDefinition (operation) {
        const depth = depthOf(operation, 0, new Set())
        if (depth > maxDepth) {
          context.reportError(new GraphQLError(`The document nests fields more than ${maxDepth} levels deep, the most this gateway accepts. Split it into several requests.`, { nodes: [operation] }))
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
    const fragments = new Map<string, FragmentDefinitionNode>()
    for (const definition of context.getDocument().definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition)
    }
    const countOf = (node: ASTNode, visiting: Set<string>, budget: number): number => {
      if (!('selectionSet' in node) || node.selectionSet === undefined) return 0
      let count = 0
      for (const selection of node.selectionSet.selections) {
        if (count > budget) break
        if (selection.kind === Kind.FIELD) {
          count += 1 + countOf(selection, visiting, budget - count)
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          count += countOf(selection, visiting, budget - count)
        } else {
          const name = selection.name.value
          const fragment = fragments.get(name)
          if (fragment !== undefined && !visiting.has(name)) count += countOf(fragment, new Set([...visiting, name]), budget - count)
        }
      }
      return count
    }
    return {
      OperationDefinition (operation) {
        if (countOf(operation, new Set(), maxFields) > maxFields) {
          context.reportError(new GraphQLError(`The document selects more than ${maxFields} fields, the most this gateway accepts. Split it into several requests.`, { nodes: [operation] }))
        }
      }
    }
  }
}

/** HTTP cannot stream: a subscription sent there is told where subscriptions run. */
export const noSubscriptionOverHttp: ValidationRule = (context: ValidationContext) => ({
  OperationDefinition (operation) {
    if (operation.operation === 'subscription') {
      context.reportError(new GraphQLError('Subscriptions run over WebSocket at this same /graphql path, with the graphql-transport-ws protocol (the graphql-ws client); over HTTP only queries and mutations are answered.', { nodes: [operation] }))
    }
  }
})
