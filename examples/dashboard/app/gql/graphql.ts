/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
/** Dataset states. UNKNOWN stands for a value this gateway does not know yet. */
export type DatasetStatus =
  | 'DRAFT'
  | 'ERROR'
  | 'INDEXING'
  | 'PARTIAL_INDEX'
  | 'READY'
  | 'READ_ONLY'
  | 'UNKNOWN';

export type EnrichmentModelInput = {
  modelId: string;
  type: string;
};

export type ModelStatus =
  | 'ACTIVE'
  | 'COMING_SOON'
  | 'UNKNOWN';

export type TaskFilter = {
  createdBy?: string | null | undefined;
  datasetId?: string | null | undefined;
  datasetName?: string | null | undefined;
  startTimeFrom?: string | null | undefined;
  startTimeTo?: string | null | undefined;
  status?: TaskStatus | null | undefined;
  type?: TaskType | null | undefined;
};

export type TaskStatus =
  | 'ABORTED'
  | 'COMPLETED'
  | 'FAILED'
  | 'INITIALIZING'
  | 'RUNNING'
  | 'UNKNOWN';

export type TaskType =
  | 'CUSTOM_METADATA'
  | 'DATASET_CREATION'
  | 'ENRICHMENT'
  | 'MEDIA_ADDITION'
  | 'REINDEX'
  | 'SNAPSHOT_CLONE'
  | 'SNAPSHOT_RESTORE'
  | 'UNKNOWN';

export type DashboardDatasetsQueryVariables = Exact<{ [key: string]: never; }>;


export type DashboardDatasetsQuery = { datasets: Array<{ id: string, displayName: string, status: DatasetStatus, progress: number, imageCount: number, objectCount: number, createdAt: string | null, sourceDataset: { id: string, displayName: string } | null }> };

export type DashboardDatasetQueryVariables = Exact<{
  id: string;
}>;


export type DashboardDatasetQuery = { dataset: { id: string, displayName: string, description: string | null, status: DatasetStatus, progress: number, imageCount: number, videoCount: number, objectCount: number, errorMessage: string | null, isReady: boolean, createdAt: string | null, sourceDataset: { id: string, displayName: string } | null, enrichment: { status: string, applied: Array<{ type: string, modelId: string, model: { name: string, vendor: string | null } | null }> } } | null };

export type DashboardDatasetLiveSubscriptionVariables = Exact<{
  datasetId: string;
}>;


export type DashboardDatasetLiveSubscription = { datasetStatusChanged: { id: string, status: DatasetStatus, progress: number, imageCount: number, videoCount: number, objectCount: number, errorMessage: string | null, isReady: boolean } };

export type DashboardEnrichmentModelsQueryVariables = Exact<{
  id: string;
}>;


export type DashboardEnrichmentModelsQuery = { dataset: { id: string, displayName: string, status: DatasetStatus, isReady: boolean, models: Array<{ id: string, name: string, type: string, vendor: string | null, description: string | null, status: ModelStatus, isActive: boolean, dependencies: Array<string> }>, enrichment: { applied: Array<{ type: string }> } } | null };

export type DashboardEnrichDatasetMutationVariables = Exact<{
  datasetId: string;
  models: Array<EnrichmentModelInput> | EnrichmentModelInput;
  idempotencyKey?: string | null | undefined;
}>;


export type DashboardEnrichDatasetMutation = { enrichDataset: { enrichedDatasetId: string } };

export type DashboardTasksQueryVariables = Exact<{
  filter?: TaskFilter | null | undefined;
  page: number;
}>;


export type DashboardTasksQuery = { tasks: { total: number, page: number, pageSize: number, hasNextPage: boolean, nodes: Array<{ id: string, type: TaskType, status: TaskStatus, progress: number | null, errorMessage: string | null, createdBy: string | null, startTime: string | null, datasetId: string, datasetName: string | null, canAbort: boolean, canRetry: boolean }> } };

export type DashboardAbortTaskMutationVariables = Exact<{
  taskId: string;
}>;


export type DashboardAbortTaskMutation = { abortTask: { id: string, status: TaskStatus, progress: number | null, errorMessage: string | null, canAbort: boolean, canRetry: boolean } };

export type DashboardRetryTaskMutationVariables = Exact<{
  taskId: string;
}>;


export type DashboardRetryTaskMutation = { retryTask: { id: string, status: TaskStatus, progress: number | null, errorMessage: string | null, canAbort: boolean, canRetry: boolean } };


export const DashboardDatasetsDocument = {"__meta__":{"hash":"sha256:e533f7275ca9e379a63446c04bdcc5b774efb508cea5fccf894752fc4fafa64b"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"DashboardDatasets"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"datasets"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"displayName"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"progress"}},{"kind":"Field","name":{"kind":"Name","value":"imageCount"}},{"kind":"Field","name":{"kind":"Name","value":"objectCount"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"sourceDataset"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"displayName"}}]}}]}}]}}]} as unknown as DocumentNode<DashboardDatasetsQuery, DashboardDatasetsQueryVariables>;
export const DashboardDatasetDocument = {"__meta__":{"hash":"sha256:34f4b13a9fe5760fab15004ddea08a835a1fde0c4653a4d6b845fc921777aced"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"DashboardDataset"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"dataset"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"displayName"}},{"kind":"Field","name":{"kind":"Name","value":"description"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"progress"}},{"kind":"Field","name":{"kind":"Name","value":"imageCount"}},{"kind":"Field","name":{"kind":"Name","value":"videoCount"}},{"kind":"Field","name":{"kind":"Name","value":"objectCount"}},{"kind":"Field","name":{"kind":"Name","value":"errorMessage"}},{"kind":"Field","name":{"kind":"Name","value":"isReady"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"sourceDataset"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"displayName"}}]}},{"kind":"Field","name":{"kind":"Name","value":"enrichment"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"applied"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"type"}},{"kind":"Field","name":{"kind":"Name","value":"modelId"}},{"kind":"Field","name":{"kind":"Name","value":"model"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"vendor"}}]}}]}}]}}]}}]}}]} as unknown as DocumentNode<DashboardDatasetQuery, DashboardDatasetQueryVariables>;
export const DashboardDatasetLiveDocument = {"__meta__":{"hash":"sha256:713c45f30ccd11ce96d226bfb609645dedaf96dcba7d2d4d05306034b9c3314c"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"DashboardDatasetLive"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"datasetId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"datasetStatusChanged"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"datasetId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"datasetId"}}},{"kind":"Argument","name":{"kind":"Name","value":"follow"},"value":{"kind":"BooleanValue","value":true}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"progress"}},{"kind":"Field","name":{"kind":"Name","value":"imageCount"}},{"kind":"Field","name":{"kind":"Name","value":"videoCount"}},{"kind":"Field","name":{"kind":"Name","value":"objectCount"}},{"kind":"Field","name":{"kind":"Name","value":"errorMessage"}},{"kind":"Field","name":{"kind":"Name","value":"isReady"}}]}}]}}]} as unknown as DocumentNode<DashboardDatasetLiveSubscription, DashboardDatasetLiveSubscriptionVariables>;
export const DashboardEnrichmentModelsDocument = {"__meta__":{"hash":"sha256:b52ba7361bc3ccb05d7a92861ee82379beefcdad9771a4a4319275dc1dbcda9f"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"DashboardEnrichmentModels"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"dataset"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"displayName"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"isReady"}},{"kind":"Field","name":{"kind":"Name","value":"models"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"type"}},{"kind":"Field","name":{"kind":"Name","value":"vendor"}},{"kind":"Field","name":{"kind":"Name","value":"description"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"isActive"}},{"kind":"Field","name":{"kind":"Name","value":"dependencies"}}]}},{"kind":"Field","name":{"kind":"Name","value":"enrichment"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"applied"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"type"}}]}}]}}]}}]}}]} as unknown as DocumentNode<DashboardEnrichmentModelsQuery, DashboardEnrichmentModelsQueryVariables>;
export const DashboardEnrichDatasetDocument = {"__meta__":{"hash":"sha256:ba99cba573c3c25525b19e7078da7ff8e744449ba6a2de68c8ee651e416f2a81"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"DashboardEnrichDataset"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"datasetId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"models"}},"type":{"kind":"NonNullType","type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"EnrichmentModelInput"}}}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"idempotencyKey"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"enrichDataset"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"datasetId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"datasetId"}}},{"kind":"Argument","name":{"kind":"Name","value":"models"},"value":{"kind":"Variable","name":{"kind":"Name","value":"models"}}},{"kind":"Argument","name":{"kind":"Name","value":"idempotencyKey"},"value":{"kind":"Variable","name":{"kind":"Name","value":"idempotencyKey"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"enrichedDatasetId"}}]}}]}}]} as unknown as DocumentNode<DashboardEnrichDatasetMutation, DashboardEnrichDatasetMutationVariables>;
export const DashboardTasksDocument = {"__meta__":{"hash":"sha256:f23c39f3b552a9f0ac0967ef9f7971087543b0ddea846d6d2b6b5abbff1dc379"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"DashboardTasks"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"filter"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"TaskFilter"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"page"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"tasks"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"Variable","name":{"kind":"Name","value":"filter"}}},{"kind":"Argument","name":{"kind":"Name","value":"orderBy"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"field"},"value":{"kind":"EnumValue","value":"START_TIME"}},{"kind":"ObjectField","name":{"kind":"Name","value":"direction"},"value":{"kind":"EnumValue","value":"DESC"}}]}},{"kind":"Argument","name":{"kind":"Name","value":"page"},"value":{"kind":"Variable","name":{"kind":"Name","value":"page"}}},{"kind":"Argument","name":{"kind":"Name","value":"pageSize"},"value":{"kind":"IntValue","value":"10"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"total"}},{"kind":"Field","name":{"kind":"Name","value":"page"}},{"kind":"Field","name":{"kind":"Name","value":"pageSize"}},{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"type"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"progress"}},{"kind":"Field","name":{"kind":"Name","value":"errorMessage"}},{"kind":"Field","name":{"kind":"Name","value":"createdBy"}},{"kind":"Field","name":{"kind":"Name","value":"startTime"}},{"kind":"Field","name":{"kind":"Name","value":"datasetId"}},{"kind":"Field","name":{"kind":"Name","value":"datasetName"}},{"kind":"Field","name":{"kind":"Name","value":"canAbort"}},{"kind":"Field","name":{"kind":"Name","value":"canRetry"}}]}}]}}]}}]} as unknown as DocumentNode<DashboardTasksQuery, DashboardTasksQueryVariables>;
export const DashboardAbortTaskDocument = {"__meta__":{"hash":"sha256:868c7febab755b88caab3ba9a82da0d59470e86b23cef2c887a64ecea9fb4f23"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"DashboardAbortTask"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"taskId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"abortTask"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"taskId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"taskId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"progress"}},{"kind":"Field","name":{"kind":"Name","value":"errorMessage"}},{"kind":"Field","name":{"kind":"Name","value":"canAbort"}},{"kind":"Field","name":{"kind":"Name","value":"canRetry"}}]}}]}}]} as unknown as DocumentNode<DashboardAbortTaskMutation, DashboardAbortTaskMutationVariables>;
export const DashboardRetryTaskDocument = {"__meta__":{"hash":"sha256:e8f40b756758a693df1f327ba2c05219217cce22509f04e83d692b6ceec4ca1d"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"DashboardRetryTask"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"taskId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryTask"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"taskId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"taskId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"progress"}},{"kind":"Field","name":{"kind":"Name","value":"errorMessage"}},{"kind":"Field","name":{"kind":"Name","value":"canAbort"}},{"kind":"Field","name":{"kind":"Name","value":"canRetry"}}]}}]}}]} as unknown as DocumentNode<DashboardRetryTaskMutation, DashboardRetryTaskMutationVariables>;