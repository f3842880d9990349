import { describe, expect, it } from 'vitest'
import { ResponseCache, type AnswerReads } from '../../src/transports/graphql-http/response-cache.js'

/**
 * The response cache's store (src/transports/graphql-http/response-cache.ts): its bounds in bytes (in
 * all, least recently used first out, and per answer), its TTL on an injected clock, and what a drop
 * takes: the answers that read a dataset written or changed, and every answer that read a list of the
 * whole account.
 */

const answer = (body: string): { body: string, contentType: string, etag: string } => ({ body, contentType: 'application/json', etag: '"e"' })
const reads = (ids: string[], account = false): AnswerReads => ({ datasetIds: new Set(ids), account })
/** What set counts for an entry: (key + body + content type + etag) × 2 + 400, and 2 bytes a character + 100 per dataset id. */
const sizeOf = (key: string, body: string, ids: string[] = []): number =>
  (key.length + body.length + 'application/json'.length + 3) * 2 + 400 + ids.reduce((sum, id) => sum + id.length * 2 + 100, 0)

describe('the response cache store', () => {
  it('keeps answers within its bytes in all, the least recently used out first, and counts every byte it holds', () => {
    const body = 'x'.repeat(1_000)
    const one = sizeOf('k0', body, ['d'])
    const cache = new ResponseCache({ ttlMs: 1_000, maxBytes: one * 3, maxEntryBytes: one * 3, now: () => 0 })
    for (const key of ['k0', 'k1', 'k2']) expect(cache.set(key, answer(body), reads(['d']), cache.mark)).toBe(true)
    expect([cache.size, cache.bytes]).toEqual([3, one * 3])
    // k0 read again: k1 is now the least recently used.
    expect(cache.get('k0')?.body).toBe(body)
    expect(cache.set('k3', answer(body), reads(['d']), cache.mark)).toBe(true)
    expect(['k0', 'k1', 'k2', 'k3'].map((key) => cache.get(key) !== undefined)).toEqual([true, false, true, true])
    expect(cache.bytes).toBe(one * 3)
    // An evicted answer is out of the index too: dropping its dataset drops the three kept.
    expect(cache.drop(['d'])).toBe(3)
    expect([cache.size, cache.bytes]).toEqual([0, 0])
  })

  it('never keeps an answer over its bound per answer, and never evicts others for one', () => {
    const small = 'x'.repeat(100)
    const cache = new ResponseCache({ ttlMs: 1_000, maxBytes: 100_000, maxEntryBytes: sizeOf('big', 'y'.repeat(1_000)), now: () => 0 })
    expect(cache.set('small', answer(small), reads([]), cache.mark)).toBe(true)
    expect(cache.set('big', answer('y'.repeat(1_000)), reads([]), cache.mark)).toBe(true)
    expect(cache.set('bigger', answer('y'.repeat(1_001)), reads([]), cache.mark)).toBe(false)
    // Its datasets count: the same body with a dataset read is over the bound.
    expect(cache.set('big', answer('y'.repeat(1_000)), reads(['d']), cache.mark)).toBe(false)
    expect([cache.size, cache.get('small')?.body, cache.get('bigger')]).toEqual([2, small, undefined])
  })

  it('stays under its bound however many unique answers come', () => {
    const cache = new ResponseCache({ ttlMs: 1_000, maxBytes: 64 * 1024, maxEntryBytes: 8 * 1024, now: () => 0 })
    let largest = 0
    for (let i = 0; i < 5_000; i++) {
      cache.set(`query ${i} ${'v'.repeat(i % 500)}`, answer('z'.repeat(i % 2_000)), reads([`dataset-${i}`]), cache.mark)
      largest = Math.max(largest, cache.bytes)
    }
    expect(largest).toBeLessThanOrEqual(64 * 1024)
    expect(cache.size).toBeGreaterThan(0)
  })

  it('answers for the TTL on its clock, then drops the answer when met', () => {
    let now = 10
    const cache = new ResponseCache({ ttlMs: 500, maxBytes: 100_000, maxEntryBytes: 10_000, now: () => now })
    cache.set('k', answer('a'), reads([]), cache.mark)
    now += 499
    expect(cache.get('k')?.body).toBe('a')
    now += 1
    expect([cache.get('k'), cache.size, cache.bytes]).toEqual([undefined, 0, 0])
  })

  it('drops the answers that read a dataset, and those that read an account list on any drop; nothing kept from before a drop', () => {
    const cache = new ResponseCache({ ttlMs: 1_000, maxBytes: 100_000, maxEntryBytes: 10_000, now: () => 0 })
    const before = cache.mark
    cache.set('a', answer('a'), reads(['d1']), cache.mark)
    cache.set('b', answer('b'), reads(['d2']), cache.mark)
    cache.set('both', answer('c'), reads(['d1', 'd2']), cache.mark)
    cache.set('list', answer('l'), reads([], true), cache.mark)
    expect(cache.drop([])).toBe(0)
    expect(cache.drop(['d1'])).toBe(3)
    expect(['a', 'b', 'both', 'list'].map((key) => cache.get(key)?.body ?? null)).toEqual([null, 'b', null, null])
    // An execution that began before the drop may have read what it dropped.
    expect(cache.set('late', answer('late'), reads([]), before)).toBe(false)
    expect(cache.drop(['*'])).toBe(0)
    expect(cache.get('b')?.body).toBe('b')
  })
})
