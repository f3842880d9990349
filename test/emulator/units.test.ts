import { describe, expect, it, vi } from 'vitest'
import { createClock } from '../../src/emulator/clock.js'
import { matchesGlob } from '../../src/emulator/glob.js'
import { parseUuid, seededUuid } from '../../src/emulator/ids.js'
import { formatDatasetTime, formatTaskTime, parseQueryDatetime } from '../../src/emulator/time-format.js'

describe('clock', () => {
  it('stays frozen until advanced or set, never backwards, and resets to its start', () => {
    const clock = createClock(new Date('2026-03-02T12:00:00Z'))
    const start = Date.parse('2026-03-02T12:00:00Z')
    expect(clock.now()).toBe(start)
    clock.advance(1500)
    expect(clock.now()).toBe(start + 1500)
    clock.set(start + 10_000)
    expect(clock.now()).toBe(start + 10_000)
    expect(() => { clock.set(start) }).toThrow(RangeError)
    expect(() => { clock.advance(-1) }).toThrow(RangeError)
    clock.reset()
    expect(clock.now()).toBe(start)
  })

  it('follows the wall clock when real, plus any advance', () => {
    // The wall clock held by the test (Date faked), so that the comparison is exact.
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      vi.setSystemTime(new Date('2026-03-02T12:00:00Z'))
      const clock = createClock('real')
      expect(clock.now()).toBe(Date.now())
      vi.setSystemTime(new Date('2026-03-02T12:00:05Z'))
      expect(clock.now()).toBe(Date.now())
      clock.advance(60_000)
      expect(clock.now()).toBe(Date.now() + 60_000)
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('path globs', () => {
  it('matches * within a segment and ** across segments', () => {
    expect(matchesGlob('/api/v1/dataset/*', '/api/v1/dataset/abc')).toBe(true)
    expect(matchesGlob('/api/v1/dataset/*', '/api/v1/dataset/abc/enrich_dataset')).toBe(false)
    expect(matchesGlob('/api/v1/**', '/api/v1/dataset/abc/enrich_dataset')).toBe(true)
    expect(matchesGlob('/api/v1/tasks', '/api/v1/tasks/filters')).toBe(false)
    expect(matchesGlob('/api/v1/(x).y', '/api/v1/(x).y')).toBe(true)
  })
})

describe('timestamps', () => {
  it('writes datasets without zone and with microseconds, tasks to the second with Z', () => {
    const ms = Date.parse('2025-04-24T07:44:46.136Z')
    expect(formatDatasetTime(ms, 915)).toBe('2025-04-24T07:44:46.136915')
    expect(formatTaskTime(ms)).toBe('2025-04-24T07:44:46Z')
  })

  it('parses query datetimes as pydantic does', () => {
    expect(parseQueryDatetime('2026-03-01')).toEqual({ ok: true, ms: Date.parse('2026-03-01T00:00:00Z') })
    expect(parseQueryDatetime('2026-03-01T14:30:00Z')).toEqual({ ok: true, ms: Date.parse('2026-03-01T14:30:00Z') })
    expect(parseQueryDatetime('2026-03-01 14:30:00.250')).toEqual({ ok: true, ms: Date.parse('2026-03-01T14:30:00.250Z') })
    expect(parseQueryDatetime('2026-03-01T16:30:00+02:00')).toEqual({ ok: true, ms: Date.parse('2026-03-01T14:30:00Z') })
    expect(parseQueryDatetime('1772375400')).toEqual({ ok: true, ms: 1772375400000 })
    expect(parseQueryDatetime('2026-02-30')).toEqual({ ok: false, error: 'day value is outside expected range' })
    expect(parseQueryDatetime('yesterday')).toEqual({ ok: false, error: 'input is too short' })
    expect(parseQueryDatetime('last monday')).toEqual({ ok: false, error: 'invalid character in year' })
  })
})

describe('uuids', () => {
  it('accepts pydantic\'s forms and canonicalises them', () => {
    const id = 'b1a39406-123d-11f1-9353-fa39f6ed1f22'
    expect(parseUuid(id.toUpperCase())).toEqual({ ok: true, uuid: id })
    expect(parseUuid(id.replaceAll('-', ''))).toEqual({ ok: true, uuid: id })
    expect(parseUuid(`urn:uuid:${id}`)).toEqual({ ok: true, uuid: id })
    expect(parseUuid('b1a39406-123d-11f1-9353-fa39f6ed1f2')).toEqual({ ok: false, error: 'invalid group length in group 4: expected 12, found 11' })
    expect(parseUuid('b1a39406')).toEqual({ ok: false, error: 'invalid length: expected length 32 for simple format, found 8' })
  })

  it('derives stable seeded ids', () => {
    expect(seededUuid('task:x')).toBe(seededUuid('task:x'))
    expect(seededUuid('task:x')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  })
})
