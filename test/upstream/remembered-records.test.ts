import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { mapTask } from '../../src/domain/mapping/task.js'
import { checked, RememberedRecords } from '../../src/upstream/checked.js'
import { checkedModelSchema, checkedTaskSchema } from '../../src/upstream/schemas.js'
import { upstreamTask as task } from '../helpers/upstream-records.js'

/**
 * A record Visual Layer sends again with the same values is the same checked record, not parsed again,
 * and its mapping is shared (src/upstream/checked.ts, RememberedRecords): the task page asked with a page
 * size of its own per request reads the same tasks in every page (issue 27).
 */

describe('records sent again', () => {
  it('are the same checked record and the same mapped task when every field holds the same value', () => {
    const first = checkedTaskSchema.parse(task())
    const again = checkedTaskSchema.parse(task({ extra: 'another' }))
    expect(again).toBe(first)
    expect(first.broken.size).toBe(0)
    // Every field of the shape, as sent; the extra field dropped.
    const { extra: _extra, ...fields } = task()
    expect(first.value).toEqual(fields)
    const unknown: string[] = []
    expect(mapTask(again, (kind) => unknown.push(kind))).toBe(mapTask(first, (kind) => unknown.push(kind)))
    expect(unknown).toEqual([])
  })

  it('are parsed again when one field differs, an absent field included, and the newest is remembered', () => {
    const running = checkedTaskSchema.parse(task({ task_id: 'task-2' }))
    const done = checkedTaskSchema.parse(task({ task_id: 'task-2', status: 'COMPLETED', progress_percentage: 100 }))
    expect(done).not.toBe(running)
    expect([done.value.status, done.value.progress_percentage]).toEqual(['COMPLETED', 100])
    expect(checkedTaskSchema.parse(task({ task_id: 'task-2', status: 'COMPLETED', progress_percentage: 100 }))).toBe(done)
    const withoutName = task({ task_id: 'task-2', status: 'COMPLETED', progress_percentage: 100 })
    delete withoutName.dataset_name
    const absent = checkedTaskSchema.parse(withoutName)
    expect(absent).not.toBe(done)
    expect(absent.value.dataset_name).toBeNull()
    // 0 and -0 are not the same value.
    const zero = checkedTaskSchema.parse(task({ task_id: 'task-3', progress_percentage: 0 }))
    expect(checkedTaskSchema.parse(task({ task_id: 'task-3', progress_percentage: -0 }))).not.toBe(zero)
  })

  it('are parsed each time when a field is broken, or holds a list', () => {
    const broken = checkedTaskSchema.parse(task({ task_id: 'task-4', progress_percentage: 'half' }))
    const brokenAgain = checkedTaskSchema.parse(task({ task_id: 'task-4', progress_percentage: 'half' }))
    expect(brokenAgain).not.toBe(broken)
    expect([...brokenAgain.broken.keys()]).toEqual(['progress_percentage'])
    const model = { id: 'model-1', name: 'Captions', type: 'CAPTION', status: 'ACTIVE', vendor: null, description: null, dependencies: ['OBJECT_DETECTION'] }
    const first = checkedModelSchema.parse(model)
    const again = checkedModelSchema.parse({ ...model, dependencies: [...model.dependencies] })
    expect(again).not.toBe(first)
    expect(again).toEqual(first)
  })

  it('are kept within their bound in bytes, the least recently used going first', () => {
    const bound = 64 * 1024
    const records = Array.from({ length: 1000 }, (_, i) => ({ id: `record-${String(i).padStart(3, '0')}`, name: `name ${i}`.padEnd(100, '.') }))
    // Each entry: 2 × 2 bytes for each of its 120 characters (the key, the id and the name), 48 bytes for each of its 2 fields in 3 objects, 256 more: 1,024 bytes.
    const remembered = new RememberedRecords<object>(['id', 'name'], bound)
    const kept = records.map((record) => {
      const value = {}
      remembered.set(record.id, record, value)
      return value
    })
    expect(remembered.size).toBe(64)
    expect(remembered.bytes).toBe(64 * 1024)
    expect(remembered.get('record-999', records[999]!)).toBe(kept[999])
    expect(remembered.get('record-936', records[936]!)).toBe(kept[936])
    expect(remembered.get('record-935', records[935]!)).toBeUndefined()
    // Through a schema of its own with the same bound: the last record is the same, the first was parsed again.
    const schema = checked({ id: z.string().min(1), name: z.string() }, 'id', bound)
    const parsed = records.map((record) => schema.parse({ ...record }))
    expect(schema.parse({ ...records[999] })).toBe(parsed[999])
    expect(schema.parse({ ...records[0] })).not.toBe(parsed[0])
    expect(schema.parse({ ...records[0] })).toEqual(parsed[0])
  })
})
