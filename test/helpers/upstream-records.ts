/** A task as Visual Layer's task list sends it, with `overrides`; an extra field it may add is there too. */
export const upstreamTask = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  task_id: 'task-1',
  dataset_id: 'ds-1',
  dataset_name: 'Product Images Q1',
  dataset_status: 'READY',
  created_by: 'ana@example.com',
  task_type: 'DATASET_CREATION',
  status: 'RUNNING',
  status_message: null,
  progress_percentage: 42,
  error_message: null,
  start_time: '2026-03-01T10:00:00.123456Z',
  end_time: null,
  // Extra fields Visual Layer may add are dropped, and do not stop a record from being the same.
  extra: { nested: true },
  ...overrides
})
