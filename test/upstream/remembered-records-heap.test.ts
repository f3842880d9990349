import { describe, expect, it } from 'vitest'
import { mapTask } from '../../src/domain/mapping/task.js'
import { checked, RememberedRecords } from '../../src/upstream/checked.js'
import { taskShape } from '../../src/upstream/schemas.js'
import { expectWithin, settledHeap } from '../helpers/heap.js'
import { upstreamTask as task } from '../helpers/upstream-records.js'

/**
 * What RememberedRecords counts for a record (src/upstream/checked.ts) against the heap a remembered
 * task and its mapping hold. In a process of its own (vitest.config.ts), so that the heap measured is
 * this file's.
 */

describe('records sent again', () => {
  it('count at least the heap a remembered task and its mapping hold, and at most three times it', () => {
    const count = 2000
    // Tasks as JSON gives them: every string made anew, as each answer's parse makes them.
    const sent = (i: number): Record<string, unknown> => JSON.parse(JSON.stringify(task({
      task_id: `0a7b55d3-000e-1000-8740-${String(i).padStart(12, '0')}`,
      dataset_id: `1b7b55d3-000e-1000-8740-${String(i).padStart(12, '0')}`,
      dataset_name: `Product Images Q${i}`,
      created_by: `ana${i}@example.com`,
      progress_percentage: i % 100,
      start_time: `2026-03-01T10:00:${String(i % 60).padStart(2, '0')}.123456Z`
    }))) as Record<string, unknown>
    // What the cache counts for these records, by its own measure.
    const fields = Object.keys(taskShape)
    const counted = new RememberedRecords<object>(fields, 1024 * 1024 * 1024)
    for (let i = 0; i < count; i++) {
      const record = sent(i)
      counted.set(record.task_id as string, record, {})
    }
    // What a schema of its own keeps: each task made, parsed, mapped and dropped inside the measure, so
    // that only what the cache holds is left in the heap (the strings of its values included).
    const schema = checked(taskShape, 'task_id', 1024 * 1024 * 1024)
    const unknown: string[] = []
    const before = settledHeap()
    for (let i = 0; i < count; i++) mapTask(schema.parse(sent(i)), (kind) => unknown.push(kind))
    const heap = settledHeap() - before
    const ratio = Math.round(counted.bytes / heap * 100) / 100
    expect(counted.size).toBe(count)
    expect(unknown).toEqual([])
    expectWithin({ tasks: ratio }, 1, 3)
    // The same tasks again are the same records: nothing was evicted.
    expect(schema.parse(sent(0))).toBe(schema.parse(sent(0)))
  })
})
