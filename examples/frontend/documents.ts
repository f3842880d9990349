import { graphql } from './gql/index.js'

/*
 * The example operations of docs/graphql.md, written once with the client preset's `graphql()`: each is
 * typed (its result and variables) from schema.graphql by GraphQL Code Generator, and has a
 * sha256 document id in gql/persisted-documents.json, the manifest the gateway's
 * TRUSTED_DOCUMENTS loads. Regenerate with `npx tsx examples/frontend/codegen.ts` after an edit.
 */

/** A dashboard: every dataset, its source for enriched copies, and its applied enrichments. */
export const DashboardQuery = graphql(`
  query Dashboard {
    datasets {
      id displayName status progress imageCount objectCount createdAt
      sourceDataset { displayName }
      enrichment { status applied { type model { name vendor } } }
    }
  }
`)

/** One dataset with what can be applied to it. */
export const DatasetWithModelsQuery = graphql(`
  query DatasetWithModels($id: ID!) {
    dataset(id: $id) {
      displayName status isReady errorMessage
      creationStatus { status progress }
      models(onlyActive: true) { id name type dependencies }
    }
  }
`)

/** The task manager: failed tasks, newest first, with their datasets. */
export const TaskManagerQuery = graphql(`
  query TaskManager {
    tasks(filter: { status: FAILED }, orderBy: { field: START_TIME, direction: DESC }, pageSize: 20) {
      total hasNextPage
      nodes { id type status errorMessage startTime canRetry dataset { displayName status } }
    }
    taskFilterOptions { datasetNames taskTypes createdBy }
  }
`)

/** An enrichment, repeatable safely thanks to its idempotency key. */
export const EnrichDatasetMutation = graphql(`
  mutation EnrichDataset($datasetId: ID!, $models: [EnrichmentModelInput!]!, $idempotencyKey: String) {
    enrichDataset(datasetId: $datasetId, models: $models, idempotencyKey: $idempotencyKey) {
      enrichedDatasetId sourceDataset { status } enrichedDataset { status progress }
    }
  }
`)

/** Live status: the dataset now, then each change, until it is READY or ERROR. */
export const DatasetStatusSubscription = graphql(`
  subscription DatasetStatus($datasetId: ID!) {
    datasetStatusChanged(datasetId: $datasetId) { status progress imageCount }
  }
`)
