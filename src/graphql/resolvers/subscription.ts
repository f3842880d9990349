import { Kind, type FieldNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql'
import { watchDataset, watchTasks, type VisibleTaskFields } from '../../domain/live/watch.js'
import type { DatasetParent, TaskParent } from '../../domain/parents.js'
import type { SubscriptionResolvers } from '../generated/resolvers.js'

/** Each event is resolved afresh: the readers refresh themselves before each (src/domain/live/watch.ts). */
export const Subscription: SubscriptionResolvers = {
  datasetStatusChanged: {
    subscribe: (_root, { datasetId, follow }, ctx) => watchDataset(ctx, datasetId, follow),
    resolve: (payload: DatasetParent) => payload
  },

  taskUpdated: {
    // A task is sent again only when a field the subscriber selected changed.
    subscribe: async (_root, { datasetId, taskId }, ctx, info) =>
      await watchTasks(ctx, datasetId, taskId ?? null, selectedFields(info.fieldNodes, info.fragments)),
    resolve: (payload: TaskParent) => payload
  }
}

/** The names of the fields selected under `nodes`, through inline fragments and fragment spreads (whatever their conditions). */
function selectedFields (nodes: readonly FieldNode[], fragments: Record<string, FragmentDefinitionNode>): VisibleTaskFields {
  const names = new Set<string>()
  const visited = new Set<string>()
  const walk = (set: SelectionSetNode | undefined): void => {
    for (const selection of set?.selections ?? []) {
      if (selection.kind === Kind.FIELD) names.add(selection.name.value)
      else if (selection.kind === Kind.INLINE_FRAGMENT) walk(selection.selectionSet)
      else if (!visited.has(selection.name.value)) {
        visited.add(selection.name.value)
        walk(fragments[selection.name.value]?.selectionSet)
      }
    }
  }
  for (const node of nodes) walk(node.selectionSet)
  return names as VisibleTaskFields
}
