/*
 * The tabs GraphiQL opens with: the example operations of docs/graphql.md, word for word
 * (test/graphql/graphiql-examples.test.ts checks that the page holds each of them), with the
 * emulator's seeded ids. Plain data: bundled into the page by
 * scripts/build-graphiql.mjs and read by the tests.
 */

export interface ExampleTab {
  query: string
  variables?: string
}

/** A READY dataset of the emulator's seed, and one still indexing (READY about 30 s after start). */
const READY_DATASET = 'b1a39406-123d-11f1-9353-fa39f6ed1f22'
const INDEXING_DATASET = '7c4e9b13-5f66-11f1-b3a9-fa39f6ed1f22'

export const EXAMPLE_TABS: readonly ExampleTab[] = [
  {
    query: `# A dashboard: every dataset, its source for enriched copies, and its applied enrichments.
query Dashboard {
  datasets {
    id displayName status progress imageCount objectCount createdAt
    sourceDataset { displayName }
    enrichment { status applied { type model { name vendor } } }
  }
}
`
  },
  {
    query: `# One dataset with what can be applied to it.
query DatasetWithModels($id: ID!) {
  dataset(id: $id) {
    displayName status isReady errorMessage
    creationStatus { status progress }
    models(onlyActive: true) { id name type dependencies }
  }
}
`,
    variables: `{ "id": "${READY_DATASET}" }\n`
  },
  {
    query: `# The task manager: failed tasks, newest first, with their datasets.
query TaskManager {
  tasks(filter: { status: FAILED }, orderBy: { field: START_TIME, direction: DESC }, pageSize: 20) {
    total hasNextPage
    nodes { id type status errorMessage startTime canRetry dataset { displayName status } }
  }
  taskFilterOptions { datasetNames taskTypes createdBy }
}
`
  },
  {
    query: `# Enrich a READY dataset: a new enriched copy, created once per idempotency key.
mutation EnrichDataset {
  enrichDataset(
    datasetId: "${READY_DATASET}"
    models: [{ type: "OBJECT_DETECTION", modelId: "vl_object_detector_v00" }, { type: "CAPTION_OBJECTS", modelId: "vl_object_captioner_v00" }]
    idempotencyKey: "enrich-2026-03-02-q1"
  ) { enrichedDatasetId sourceDataset { status } enrichedDataset { status progress } }
}
`
  },
  {
    query: `# Live status: the dataset now, then on every change until READY or ERROR.
subscription DatasetStatus { datasetStatusChanged(datasetId: "${INDEXING_DATASET}") { status progress imageCount } }
`
  },
  {
    query: `# A dataset page kept up to date by one live query: the whole page, then each new one as it changes.
query DatasetPage($id: ID!) @live {
  dataset(id: $id) {
    displayName status progress imageCount
    creationStatus { status progress }
    models { id name isActive }
    enrichment { status applied { type modelId } }
    tasks(pageSize: 20) { total nodes { id type status progress } }
  }
}
`,
    variables: `{ "id": "${INDEXING_DATASET}" }\n`
  }
]
