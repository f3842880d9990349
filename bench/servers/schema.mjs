/*
 * The part of the contract the bench queries, as plain type definitions and resolvers, shared by the
 * servers written "as their documentation shows" (graphql-yoga, Apollo Server): each brings its own way
 * of reading Visual Layer (`context.datasets.load(id)`, `context.visualLayer(path)`). Field resolvers
 * map Visual Layer's records by hand (mapping.mjs).
 */
import { datasetStatus, enumValue, iso, percent, taskStatus, taskType } from './mapping.mjs'

export const typeDefs = /* GraphQL */ `
  scalar DateTime
  enum DatasetStatus { DRAFT INDEXING READ_ONLY PARTIAL_INDEX READY ERROR UNKNOWN }
  enum TaskType { DATASET_CREATION MEDIA_ADDITION REINDEX ENRICHMENT CUSTOM_METADATA SNAPSHOT_RESTORE SNAPSHOT_CLONE UNKNOWN }
  enum TaskStatus { INITIALIZING RUNNING COMPLETED FAILED ABORTED UNKNOWN }
  type Query {
    dataset(id: ID!): Dataset
    tasks(page: Int! = 1, pageSize: Int! = 20): TaskPage!
  }
  type Dataset {
    id: ID!
    displayName: String!
    description: String
    sourceType: String
    ownedBy: String
    createdAt: DateTime
    status: DatasetStatus!
    progress: Int!
    imageCount: Int!
    videoCount: Int!
    objectCount: Int!
    errorMessage: String
    isReady: Boolean!
  }
  type TaskPage {
    nodes: [Task!]!
    total: Int!
    page: Int!
    pageSize: Int!
    hasNextPage: Boolean!
  }
  type Task {
    id: ID!
    type: TaskType!
    status: TaskStatus!
    statusMessage: String
    progress: Int
    errorMessage: String
    createdBy: String
    startTime: DateTime
    endTime: DateTime
    datasetId: ID!
    datasetName: String
    datasetStatus: DatasetStatus
    dataset: Dataset
    canAbort: Boolean!
    canRetry: Boolean!
  }
`

const isCreation = (task) => taskType(task.task_type) === 'DATASET_CREATION'

export const resolvers = {
  Query: {
    dataset: (_, { id }, { datasets }) => datasets.load(id),
    tasks: async (_, { page, pageSize }, { visualLayer }) => {
      const answer = await visualLayer(`/api/v1/tasks?page=${page}&page_size=${pageSize}`)
      const { tasks, total, page_size: size } = answer
      return { nodes: tasks, total, page: answer.page, pageSize: size, hasNextPage: answer.page * size < total }
    }
  },
  Dataset: {
    displayName: (dataset) => dataset.display_name,
    sourceType: (dataset) => dataset.source_type,
    ownedBy: (dataset) => dataset.owned_by,
    createdAt: (dataset) => iso(dataset.created_at),
    status: (dataset) => datasetStatus(dataset.status_new ?? dataset.status),
    progress: (dataset) => dataset.progress === null || dataset.progress === undefined
      ? (datasetStatus(dataset.status_new ?? dataset.status) === 'READY' ? 100 : 0)
      : percent(dataset.progress),
    imageCount: (dataset) => dataset.n_images,
    videoCount: (dataset) => dataset.n_videos,
    objectCount: (dataset) => dataset.n_objects,
    errorMessage: (dataset) => dataset.fatal_error_msg,
    isReady: (dataset) => datasetStatus(dataset.status_new ?? dataset.status) === 'READY'
  },
  Task: {
    id: (task) => task.task_id,
    type: (task) => taskType(task.task_type),
    status: (task) => taskStatus(task.status),
    statusMessage: (task) => task.status_message,
    progress: (task) => task.progress_percentage === null || task.progress_percentage === undefined ? null : percent(task.progress_percentage),
    errorMessage: (task) => task.error_message,
    createdBy: (task) => task.created_by,
    startTime: (task) => iso(task.start_time),
    endTime: (task) => iso(task.end_time),
    datasetId: (task) => task.dataset_id,
    datasetName: (task) => task.dataset_name,
    datasetStatus: (task) => enumValue(new Set(['DRAFT', 'INDEXING', 'READ_ONLY', 'PARTIAL_INDEX', 'READY', 'ERROR']), task.dataset_status),
    dataset: (task, _, { datasets }) => datasets.load(task.dataset_id),
    canAbort: (task) => isCreation(task) && ['INITIALIZING', 'RUNNING'].includes(taskStatus(task.status)),
    canRetry: (task) => isCreation(task) && ['FAILED', 'ABORTED'].includes(taskStatus(task.status))
  }
}
