import { graphql } from './gql/index.js'

/*
 * Every operation the dashboard sends, written once with the client preset's `graphql()`: typed from
 * schema.graphql by GraphQL Code Generator, each with its sha256 in gql/persisted-documents.json, the
 * manifest the gateway loads (TRUSTED_DOCUMENTS). The browser sends that hash, never the text.
 * Regenerate with `npx tsx examples/dashboard/codegen.ts` after an edit.
 */

/** The datasets list. */
export const DatasetsQuery = graphql(`
  query DashboardDatasets {
    datasets {
      id displayName status progress imageCount objectCount createdAt
      sourceDataset { id displayName }
    }
  }
`)

/** One dataset, read once; its live fields then come from DatasetLive. */
export const DatasetQuery = graphql(`
  query DashboardDataset($id: ID!) {
    dataset(id: $id) {
      id displayName description status progress imageCount videoCount objectCount errorMessage isReady createdAt
      sourceDataset { id displayName }
      enrichment { status applied { type modelId model { name vendor } } }
    }
  }
`)

/** The dataset page kept live: its state now, then each change, for as long as the page is open. */
export const DatasetLiveSubscription = graphql(`
  subscription DashboardDatasetLive($datasetId: ID!) {
    datasetStatusChanged(datasetId: $datasetId, follow: true) {
      id status progress imageCount videoCount objectCount errorMessage isReady
    }
  }
`)

/** The enrichment form: the models that can be applied, and what is applied already. */
export const EnrichmentModelsQuery = graphql(`
  query DashboardEnrichmentModels($id: ID!) {
    dataset(id: $id) {
      id displayName status isReady
      models { id name type vendor description status isActive dependencies }
      enrichment { applied { type } }
    }
  }
`)

/** An enrichment; the form keeps one idempotency key per request, so a repeated submit builds no second copy. */
export const EnrichDatasetMutation = graphql(`
  mutation DashboardEnrichDataset($datasetId: ID!, $models: [EnrichmentModelInput!]!, $idempotencyKey: String) {
    enrichDataset(datasetId: $datasetId, models: $models, idempotencyKey: $idempotencyKey) {
      enrichedDatasetId
    }
  }
`)

/** The task manager: one page of tasks, newest first, optionally of one status. */
export const TasksQuery = graphql(`
  query DashboardTasks($filter: TaskFilter, $page: Int!) {
    tasks(filter: $filter, orderBy: { field: START_TIME, direction: DESC }, page: $page, pageSize: 10) {
      total page pageSize hasNextPage
      nodes { id type status progress errorMessage createdBy startTime datasetId datasetName canAbort canRetry }
    }
  }
`)

export const AbortTaskMutation = graphql(`
  mutation DashboardAbortTask($taskId: ID!) {
    abortTask(taskId: $taskId) { id status progress errorMessage canAbort canRetry }
  }
`)

export const RetryTaskMutation = graphql(`
  mutation DashboardRetryTask($taskId: ID!) {
    retryTask(taskId: $taskId) { id status progress errorMessage canAbort canRetry }
  }
`)
