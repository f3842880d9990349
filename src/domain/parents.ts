import type { AppliedEnrichment, Dataset, EnrichmentContext, Task } from '../contract/types.js'

/*
 * What resolvers hand to the fields below them: the contract object's scalar fields, mapped from
 * Visual Layer's record, plus the ids that nested fields need to load their own data.
 */

export type DatasetParent = Omit<Dataset, '__typename' | 'sourceDataset' | 'creationStatus' | 'models' | 'enrichment' | 'tasks'> & {
  readonly sourceDatasetId: string | null
}

export type TaskParent = Omit<Task, '__typename' | 'dataset'>

export type AppliedEnrichmentParent = Omit<AppliedEnrichment, '__typename' | 'model'> & {
  readonly datasetId: string
}

export type EnrichmentContextParent = Omit<EnrichmentContext, '__typename' | 'applied'> & {
  readonly applied: AppliedEnrichmentParent[]
}
