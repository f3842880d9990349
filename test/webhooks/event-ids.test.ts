import { describe, expect, it } from 'vitest'
import { changeKey } from '../../src/domain/webhooks/events.js'
import { checkedDatasetSchema } from '../../src/upstream/schemas.js'

/**
 * The key a dataset change's event ids are made from (the id is a hash of it and the event's type): the
 * same on two replicas that saw the same change from different earlier polls (one last read the
 * dataset at 40 %, the other at 90 %, or one first saw it later), and different for a different change.
 */

const ID = '7645d64b-f975-425d-970d-f8217448600d'
const record = (status: string, progress: number): ReturnType<typeof checkedDatasetSchema.parse> => checkedDatasetSchema.parse({
  id: ID, display_name: 'Copy', status_new: status, progress, n_images: 26, source_dataset_id: 'b1a39406-123d-11f1-9353-fa39f6ed1f22'
})

describe('changeKey', () => {
  it('is the same for one change, whatever progress each replica last read, and differs for another change', () => {
    const ready = record('READY', 100)
    expect(changeKey(ID, 'INDEXING', 'READY', ready, false)).toBe(changeKey(ID, 'INDEXING', 'READY', record('READY', 100), false))
    expect(changeKey(ID, 'INDEXING', 'READY', ready, false)).toBe(
      `${ID} INDEXING READY {"id":"${ID}","display_name":"Copy","description":null,"source_type":null,"owned_by":null,"created_at":null,` +
      '"status_new":"READY","status":null,"progress":null,"n_images":26,"n_videos":0,"n_objects":0,"fatal_error_msg":null,"source_dataset_id":"b1a39406-123d-11f1-9353-fa39f6ed1f22"}'
    )
    // Reaching INDEXING seen at 10 % by one replica and at 30 % by another: one change.
    expect(changeKey(ID, 'DRAFT', 'INDEXING', record('INDEXING', 10), false)).toBe(changeKey(ID, 'DRAFT', 'INDEXING', record('INDEXING', 30), false))
    // Another status left, or another record reached: another change.
    expect(changeKey(ID, 'READ_ONLY', 'READY', ready, false)).not.toBe(changeKey(ID, 'INDEXING', 'READY', ready, false))
    expect(changeKey(ID, 'INDEXING', 'READY', ready, false)).not.toBe(changeKey(ID, 'INDEXING', 'READY', { ...ready, value: { ...ready.value, n_images: 27 } }, false))
    // A dataset's announcement: one, whatever status each replica first saw it at.
    expect(changeKey(ID, null, 'DRAFT', record('DRAFT', 0), true)).toBe(`${ID} discovered`)
    expect(changeKey(ID, null, 'INDEXING', record('INDEXING', 20), true)).toBe(`${ID} discovered`)
  })
})
