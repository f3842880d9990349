/**
 * Phase durations of work started through the API (new enrichment copies, retried creations):
 * about 30 s from DRAFT to READY, as a small real dataset might take. Tests move the clock instead
 * of waiting.
 */
export const NEW_WORK_INIT_MS = 5_000
export const NEW_WORK_RUN_MS = 25_000

/** A DATASET_CREATION at or above this progress is committing and can no longer be aborted. */
export const COMMIT_PHASE_PROGRESS = 95
