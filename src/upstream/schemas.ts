import { z } from 'zod'
import { checked } from './checked.js'

/*
 * zod schemas of every Visual Layer payload the gateway reads, from Visual Layer's API reference.
 * Unknown extra fields are tolerated (and dropped); enumerations are read
 * as plain strings because Visual Layer's value sets grow: mapping to the contract decides what an
 * unknown value becomes. Types of upstream records come from here (z.infer) and nowhere else.
 */

const count = z.number().int().nonnegative()
const nullableText = z.string().nullish().transform((v) => v ?? null)

const datasetShape = {
  id: z.string().min(1),
  display_name: z.string(),
  description: nullableText,
  source_type: nullableText,
  owned_by: nullableText,
  created_at: nullableText,
  // `status_new` is the status to use; Visual Layer will rename it to `status` later.
  status_new: nullableText,
  status: nullableText,
  progress: z.number().nullish().transform((v) => v ?? null),
  n_images: count.nullish().transform((v) => v ?? 0),
  n_videos: count.nullish().transform((v) => v ?? 0),
  n_objects: count.nullish().transform((v) => v ?? 0),
  fatal_error_msg: nullableText,
  source_dataset_id: nullableText
}
export const datasetSchema = z.object(datasetShape)
export type UpstreamDataset = z.infer<typeof datasetSchema>
export const checkedDatasetSchema = checked(datasetShape, 'id')
export const datasetListSchema = z.array(checkedDatasetSchema)

export const creationStatusSchema = z.object({
  status: z.string(),
  progress: z.number().nullish().transform((v) => v ?? null)
})
export type UpstreamCreationStatus = z.infer<typeof creationStatusSchema>

const modelShape = {
  id: z.string().min(1),
  name: z.string(),
  type: z.string(),
  status: z.string(),
  vendor: nullableText,
  description: nullableText,
  dependencies: z.array(z.string()).nullish().transform((v) => v ?? [])
}
export const modelSchema = z.object(modelShape)
export type UpstreamModel = z.infer<typeof modelSchema>
export const checkedModelSchema = checked(modelShape, 'id')
export const modelListSchema = z.array(checkedModelSchema)

export const enrichmentContextSchema = z.object({
  enrichment_context_id: z.string(),
  status: z.string(),
  dataset_enrichment_models: z.object({
    enrichment_models: z.record(z.string(), z.string()).nullish().transform((v) => v ?? {})
  }).nullish().transform((v) => v ?? { enrichment_models: {} })
})
export type UpstreamEnrichmentContext = z.infer<typeof enrichmentContextSchema>

export const enrichResponseSchema = z.object({ dataset_id: z.string().min(1) })
export type UpstreamEnrichResponse = z.infer<typeof enrichResponseSchema>

export const taskShape = {
  task_id: z.string().min(1),
  dataset_id: z.string().min(1),
  dataset_name: nullableText,
  dataset_status: nullableText,
  created_by: nullableText,
  task_type: z.string(),
  status: z.string(),
  status_message: nullableText,
  progress_percentage: z.number().nullish().transform((v) => v ?? null),
  error_message: nullableText,
  start_time: nullableText,
  end_time: nullableText
}
export const taskSchema = z.object(taskShape)
export type UpstreamTask = z.infer<typeof taskSchema>

export const checkedTaskSchema = checked(taskShape, 'task_id')
export const taskPageSchema = z.object({
  tasks: z.array(checkedTaskSchema),
  total: count,
  page: z.number().int().positive(),
  page_size: z.number().int().positive()
})
export type UpstreamTaskPage = z.infer<typeof taskPageSchema>

export const taskFiltersSchema = z.object({
  dataset_names: z.array(z.string()),
  dataset_ids: z.array(z.string()),
  task_types: z.array(z.string()),
  created_by: z.array(z.string())
})
export type UpstreamTaskFilters = z.infer<typeof taskFiltersSchema>

export const healthcheckSchema = z.object({
  status: z.string(),
  'service-health-message': z.string().nullish(),
  version: z.string().nullish()
})
export type UpstreamHealth = z.infer<typeof healthcheckSchema>

/** Visual Layer's error body: `{"detail": "..."}` or FastAPI's list form for 422. */
export const errorBodySchema = z.object({
  detail: z.union([
    z.string(),
    z.array(z.object({ loc: z.array(z.union([z.string(), z.number()])).optional(), msg: z.string().optional() }).loose())
  ])
})
