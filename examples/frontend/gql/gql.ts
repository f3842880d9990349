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
    "\n  query Dashboard {\n    datasets {\n      id displayName status progress imageCount objectCount createdAt\n      sourceDataset { displayName }\n      enrichment { status applied { type model { name vendor } } }\n    }\n  }\n": typeof types.DashboardDocument,
    "\n  query DatasetWithModels($id: ID!) {\n    dataset(id: $id) {\n      displayName status isReady errorMessage\n      creationStatus { status progress }\n      models(onlyActive: true) { id name type dependencies }\n    }\n  }\n": typeof types.DatasetWithModelsDocument,
    "\n  query TaskManager {\n    tasks(filter: { status: FAILED }, orderBy: { field: START_TIME, direction: DESC }, pageSize: 20) {\n      total hasNextPage\n      nodes { id type status errorMessage startTime canRetry dataset { displayName status } }\n    }\n    taskFilterOptions { datasetNames taskTypes createdBy }\n  }\n": typeof types.TaskManagerDocument,
    "\n  mutation EnrichDataset($datasetId: ID!, $models: [EnrichmentModelInput!]!, $idempotencyKey: String) {\n    enrichDataset(datasetId: $datasetId, models: $models, idempotencyKey: $idempotencyKey) {\n      enrichedDatasetId sourceDataset { status } enrichedDataset { status progress }\n    }\n  }\n": typeof types.EnrichDatasetDocument,
    "\n  subscription DatasetStatus($datasetId: ID!) {\n    datasetStatusChanged(datasetId: $datasetId) { status progress imageCount }\n  }\n": typeof types.DatasetStatusDocument,
};
const documents: Documents = {
    "\n  query Dashboard {\n    datasets {\n      id displayName status progress imageCount objectCount createdAt\n      sourceDataset { displayName }\n      enrichment { status applied { type model { name vendor } } }\n    }\n  }\n": types.DashboardDocument,
    "\n  query DatasetWithModels($id: ID!) {\n    dataset(id: $id) {\n      displayName status isReady errorMessage\n      creationStatus { status progress }\n      models(onlyActive: true) { id name type dependencies }\n    }\n  }\n": types.DatasetWithModelsDocument,
    "\n  query TaskManager {\n    tasks(filter: { status: FAILED }, orderBy: { field: START_TIME, direction: DESC }, pageSize: 20) {\n      total hasNextPage\n      nodes { id type status errorMessage startTime canRetry dataset { displayName status } }\n    }\n    taskFilterOptions { datasetNames taskTypes createdBy }\n  }\n": types.TaskManagerDocument,
    "\n  mutation EnrichDataset($datasetId: ID!, $models: [EnrichmentModelInput!]!, $idempotencyKey: String) {\n    enrichDataset(datasetId: $datasetId, models: $models, idempotencyKey: $idempotencyKey) {\n      enrichedDatasetId sourceDataset { status } enrichedDataset { status progress }\n    }\n  }\n": types.EnrichDatasetDocument,
    "\n  subscription DatasetStatus($datasetId: ID!) {\n    datasetStatusChanged(datasetId: $datasetId) { status progress imageCount }\n  }\n": types.DatasetStatusDocument,
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
export function graphql(source: "\n  query Dashboard {\n    datasets {\n      id displayName status progress imageCount objectCount createdAt\n      sourceDataset { displayName }\n      enrichment { status applied { type model { name vendor } } }\n    }\n  }\n"): (typeof documents)["\n  query Dashboard {\n    datasets {\n      id displayName status progress imageCount objectCount createdAt\n      sourceDataset { displayName }\n      enrichment { status applied { type model { name vendor } } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DatasetWithModels($id: ID!) {\n    dataset(id: $id) {\n      displayName status isReady errorMessage\n      creationStatus { status progress }\n      models(onlyActive: true) { id name type dependencies }\n    }\n  }\n"): (typeof documents)["\n  query DatasetWithModels($id: ID!) {\n    dataset(id: $id) {\n      displayName status isReady errorMessage\n      creationStatus { status progress }\n      models(onlyActive: true) { id name type dependencies }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TaskManager {\n    tasks(filter: { status: FAILED }, orderBy: { field: START_TIME, direction: DESC }, pageSize: 20) {\n      total hasNextPage\n      nodes { id type status errorMessage startTime canRetry dataset { displayName status } }\n    }\n    taskFilterOptions { datasetNames taskTypes createdBy }\n  }\n"): (typeof documents)["\n  query TaskManager {\n    tasks(filter: { status: FAILED }, orderBy: { field: START_TIME, direction: DESC }, pageSize: 20) {\n      total hasNextPage\n      nodes { id type status errorMessage startTime canRetry dataset { displayName status } }\n    }\n    taskFilterOptions { datasetNames taskTypes createdBy }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation EnrichDataset($datasetId: ID!, $models: [EnrichmentModelInput!]!, $idempotencyKey: String) {\n    enrichDataset(datasetId: $datasetId, models: $models, idempotencyKey: $idempotencyKey) {\n      enrichedDatasetId sourceDataset { status } enrichedDataset { status progress }\n    }\n  }\n"): (typeof documents)["\n  mutation EnrichDataset($datasetId: ID!, $models: [EnrichmentModelInput!]!, $idempotencyKey: String) {\n    enrichDataset(datasetId: $datasetId, models: $models, idempotencyKey: $idempotencyKey) {\n      enrichedDatasetId sourceDataset { status } enrichedDataset { status progress }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription DatasetStatus($datasetId: ID!) {\n    datasetStatusChanged(datasetId: $datasetId) { status progress imageCount }\n  }\n"): (typeof documents)["\n  subscription DatasetStatus($datasetId: ID!) {\n    datasetStatusChanged(datasetId: $datasetId) { status progress imageCount }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;