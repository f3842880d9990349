/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query DashboardDatasets {\n    datasets {\n      id displayName status progress imageCount objectCount createdAt\n      sourceDataset { id displayName }\n    }\n  }\n": typeof types.DashboardDatasetsDocument,
    "\n  query DashboardDataset($id: ID!) {\n    dataset(id: $id) {\n      id displayName description status progress imageCount videoCount objectCount errorMessage isReady createdAt\n      sourceDataset { id displayName }\n      enrichment { status applied { type modelId model { name vendor } } }\n    }\n  }\n": typeof types.DashboardDatasetDocument,
    "\n  subscription DashboardDatasetLive($datasetId: ID!) {\n    datasetStatusChanged(datasetId: $datasetId, follow: true) {\n      id status progress imageCount videoCount objectCount errorMessage isReady\n    }\n  }\n": typeof types.DashboardDatasetLiveDocument,
    "\n  query DashboardEnrichmentModels($id: ID!) {\n    dataset(id: $id) {\n      id displayName status isReady\n      models { id name type vendor description status isActive dependencies }\n      enrichment { applied { type } }\n    }\n  }\n": typeof types.DashboardEnrichmentModelsDocument,
    "\n  mutation DashboardEnrichDataset($datasetId: ID!, $models: [EnrichmentModelInput!]!, $idempotencyKey: String) {\n    enrichDataset(datasetId: $datasetId, models: $models, idempotencyKey: $idempotencyKey) {\n      enrichedDatasetId\n    }\n  }\n": typeof types.DashboardEnrichDatasetDocument,
    "\n  query DashboardTasks($filter: TaskFilter, $page: Int!) {\n    tasks(filter: $filter, orderBy: { field: START_TIME, direction: DESC }, page: $page, pageSize: 10) {\n      total page pageSize hasNextPage\n      nodes { id type status progress errorMessage createdBy startTime datasetId datasetName canAbort canRetry }\n    }\n  }\n": typeof types.DashboardTasksDocument,
    "\n  mutation DashboardAbortTask($taskId: ID!) {\n    abortTask(taskId: $taskId) { id status progress errorMessage canAbort canRetry }\n  }\n": typeof types.DashboardAbortTaskDocument,
    "\n  mutation DashboardRetryTask($taskId: ID!) {\n    retryTask(taskId: $taskId) { id status progress errorMessage canAbort canRetry }\n  }\n": typeof types.DashboardRetryTaskDocument,
};
const documents: Documents = {
    "\n  query DashboardDatasets {\n    datasets {\n      id displayName status progress imageCount objectCount createdAt\n      sourceDataset { id displayName }\n    }\n  }\n": types.DashboardDatasetsDocument,
    "\n  query DashboardDataset($id: ID!) {\n    dataset(id: $id) {\n      id displayName description status progress imageCount videoCount objectCount errorMessage isReady createdAt\n      sourceDataset { id displayName }\n      enrichment { status applied { type modelId model { name vendor } } }\n    }\n  }\n": types.DashboardDatasetDocument,
    "\n  subscription DashboardDatasetLive($datasetId: ID!) {\n    datasetStatusChanged(datasetId: $datasetId, follow: true) {\n      id status progress imageCount videoCount objectCount errorMessage isReady\n    }\n  }\n": types.DashboardDatasetLiveDocument,
    "\n  query DashboardEnrichmentModels($id: ID!) {\n    dataset(id: $id) {\n      id displayName status isReady\n      models { id name type vendor description status isActive dependencies }\n      enrichment { applied { type } }\n    }\n  }\n": types.DashboardEnrichmentModelsDocument,
    "\n  mutation DashboardEnrichDataset($datasetId: ID!, $models: [EnrichmentModelInput!]!, $idempotencyKey: String) {\n    enrichDataset(datasetId: $datasetId, models: $models, idempotencyKey: $idempotencyKey) {\n      enrichedDatasetId\n    }\n  }\n": types.DashboardEnrichDatasetDocument,
    "\n  query DashboardTasks($filter: TaskFilter, $page: Int!) {\n    tasks(filter: $filter, orderBy: { field: START_TIME, direction: DESC }, page: $page, pageSize: 10) {\n      total page pageSize hasNextPage\n      nodes { id type status progress errorMessage createdBy startTime datasetId datasetName canAbort canRetry }\n    }\n  }\n": types.DashboardTasksDocument,
    "\n  mutation DashboardAbortTask($taskId: ID!) {\n    abortTask(taskId: $taskId) { id status progress errorMessage canAbort canRetry }\n  }\n": types.DashboardAbortTaskDocument,
    "\n  mutation DashboardRetryTask($taskId: ID!) {\n    retryTask(taskId: $taskId) { id status progress errorMessage canAbort canRetry }\n  }\n": types.DashboardRetryTaskDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardDatasets {\n    datasets {\n      id displayName status progress imageCount objectCount createdAt\n      sourceDataset { id displayName }\n    }\n  }\n"): (typeof documents)["\n  query DashboardDatasets {\n    datasets {\n      id displayName status progress imageCount objectCount createdAt\n      sourceDataset { id displayName }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardDataset($id: ID!) {\n    dataset(id: $id) {\n      id displayName description status progress imageCount videoCount objectCount errorMessage isReady createdAt\n      sourceDataset { id displayName }\n      enrichment { status applied { type modelId model { name vendor } } }\n    }\n  }\n"): (typeof documents)["\n  query DashboardDataset($id: ID!) {\n    dataset(id: $id) {\n      id displayName description status progress imageCount videoCount objectCount errorMessage isReady createdAt\n      sourceDataset { id displayName }\n      enrichment { status applied { type modelId model { name vendor } } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription DashboardDatasetLive($datasetId: ID!) {\n    datasetStatusChanged(datasetId: $datasetId, follow: true) {\n      id status progress imageCount videoCount objectCount errorMessage isReady\n    }\n  }\n"): (typeof documents)["\n  subscription DashboardDatasetLive($datasetId: ID!) {\n    datasetStatusChanged(datasetId: $datasetId, follow: true) {\n      id status progress imageCount videoCount objectCount errorMessage isReady\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardEnrichmentModels($id: ID!) {\n    dataset(id: $id) {\n      id displayName status isReady\n      models { id name type vendor description status isActive dependencies }\n      enrichment { applied { type } }\n    }\n  }\n"): (typeof documents)["\n  query DashboardEnrichmentModels($id: ID!) {\n    dataset(id: $id) {\n      id displayName status isReady\n      models { id name type vendor description status isActive dependencies }\n      enrichment { applied { type } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardEnrichDataset($datasetId: ID!, $models: [EnrichmentModelInput!]!, $idempotencyKey: String) {\n    enrichDataset(datasetId: $datasetId, models: $models, idempotencyKey: $idempotencyKey) {\n      enrichedDatasetId\n    }\n  }\n"): (typeof documents)["\n  mutation DashboardEnrichDataset($datasetId: ID!, $models: [EnrichmentModelInput!]!, $idempotencyKey: String) {\n    enrichDataset(datasetId: $datasetId, models: $models, idempotencyKey: $idempotencyKey) {\n      enrichedDatasetId\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardTasks($filter: TaskFilter, $page: Int!) {\n    tasks(filter: $filter, orderBy: { field: START_TIME, direction: DESC }, page: $page, pageSize: 10) {\n      total page pageSize hasNextPage\n      nodes { id type status progress errorMessage createdBy startTime datasetId datasetName canAbort canRetry }\n    }\n  }\n"): (typeof documents)["\n  query DashboardTasks($filter: TaskFilter, $page: Int!) {\n    tasks(filter: $filter, orderBy: { field: START_TIME, direction: DESC }, page: $page, pageSize: 10) {\n      total page pageSize hasNextPage\n      nodes { id type status progress errorMessage createdBy startTime datasetId datasetName canAbort canRetry }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardAbortTask($taskId: ID!) {\n    abortTask(taskId: $taskId) { id status progress errorMessage canAbort canRetry }\n  }\n"): (typeof documents)["\n  mutation DashboardAbortTask($taskId: ID!) {\n    abortTask(taskId: $taskId) { id status progress errorMessage canAbort canRetry }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardRetryTask($taskId: ID!) {\n    retryTask(taskId: $taskId) { id status progress errorMessage canAbort canRetry }\n  }\n"): (typeof documents)["\n  mutation DashboardRetryTask($taskId: ID!) {\n    retryTask(taskId: $taskId) { id status progress errorMessage canAbort canRetry }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;