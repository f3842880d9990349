import { describe, expect, it } from 'vitest'
import { datasetStatus, isoTimestamp, modelStatus, percent, taskStatus, taskType } from '../../../src/domain/mapping/values.js'

function recorder (): { seen: Array<[string, string]>, report: (kind: string, value: string) => void } {
  const seen: Array<[string, string]> = []
  return { seen, report: (kind, value) => { seen.push([kind, value]) } }
}

describe('value mapping', () => {
  it('maps both spellings of dataset statuses to one enum value', () => {
    const { seen, report } = recorder()
    expect(['READ ONLY', 'READ_ONLY', 'PARTIAL INDEX', 'PARTIAL_INDEX', 'READY', 'DRAFT', 'INDEXING', 'ERROR'].map((v) => datasetStatus(v, report)))
      .toEqual(['READ_ONLY', 'READ_ONLY', 'PARTIAL_INDEX', 'PARTIAL_INDEX', 'READY', 'DRAFT', 'INDEXING', 'ERROR'])
    expect(seen).toEqual([])
  })

  it('maps legacy and unknown dataset statuses to UNKNOWN and reports them', () => {
    const { seen, report } = recorder()
    expect(['NEW', 'FATAL_ERROR', 'ARCHIVED'].map((v) => datasetStatus(v, report))).toEqual(['UNKNOWN', 'UNKNOWN', 'UNKNOWN'])
    expect(seen).toEqual([['dataset status', 'NEW'], ['dataset status', 'FATAL_ERROR'], ['dataset status', 'ARCHIVED']])
  })

  it('maps task types and statuses, new upstream values becoming UNKNOWN', () => {
    const { seen, report } = recorder()
    expect(taskType('SNAPSHOT_CLONE', report)).toBe('SNAPSHOT_CLONE')
    expect(taskType('LABEL_PROPAGATION', report)).toBe('UNKNOWN')
    expect(taskStatus('RUNNING', report)).toBe('RUNNING')
    expect(taskStatus('PAUSED', report)).toBe('UNKNOWN')
    expect(seen).toEqual([['task type', 'LABEL_PROPAGATION'], ['task status', 'PAUSED']])
  })

  it('maps model statuses Active and Coming Soon', () => {
    const { seen, report } = recorder()
    expect([modelStatus('Active', report), modelStatus('Coming Soon', report), modelStatus('Deprecated', report)]).toEqual(['ACTIVE', 'COMING_SOON', 'UNKNOWN'])
    expect(seen).toEqual([['model status', 'Deprecated']])
  })

  it('writes timestamps as UTC with a Z whether Visual Layer wrote a zone or not', () => {
    const { seen, report } = recorder()
    expect(isoTimestamp('2025-04-24T07:44:46.136915', report)).toBe('2025-04-24T07:44:46.136Z')
    expect(isoTimestamp('2026-03-01T14:30:00Z', report)).toBe('2026-03-01T14:30:00Z')
    expect(isoTimestamp('2026-03-01T16:30:00+02:00', report)).toBe('2026-03-01T14:30:00Z')
    expect(isoTimestamp('2026-03-01T14:30:00', report)).toBe('2026-03-01T14:30:00Z')
    expect(isoTimestamp(null, report)).toBeNull()
    expect(isoTimestamp('yesterday', report)).toBeNull()
    expect(seen).toEqual([['timestamp', 'yesterday']])
  })

  it('writes the common UTC forms as text exactly as Date would: fractions cut to milliseconds, overflowing fields rolled over', () => {
    const { seen, report } = recorder()
    const cases: Array<[string, string | null]> = [
      ['2026-03-01T14:30:00.000Z', '2026-03-01T14:30:00Z'],
      ['2026-03-01T14:30:00.5', '2026-03-01T14:30:00.500Z'],
      ['2026-03-01T14:30:00.12', '2026-03-01T14:30:00.120Z'],
      ['2026-03-01T14:30:00.000999', '2026-03-01T14:30:00Z'],
      [' 2024-02-29T23:59:59.999Z ', '2024-02-29T23:59:59.999Z'],
      // Date rolls these over rather than refusing them; so does the gateway.
      ['2026-02-29T00:00:00Z', '2026-03-01T00:00:00Z'],
      ['2026-04-31T10:00:00', '2026-05-01T10:00:00Z'],
      ['2026-01-01T24:00:00Z', '2026-01-02T00:00:00Z'],
      ['2026-03-01T14:30:00z', '2026-03-01T14:30:00Z'],
      ['2026-13-01T00:00:00Z', null],
      ['2026-01-01T23:59:60Z', null]
    ]
    expect(cases.map(([value]) => isoTimestamp(value, report))).toEqual(cases.map(([, expected]) => expected))
    expect(seen).toEqual([['timestamp', '2026-13-01T00:00:00Z'], ['timestamp', '2026-01-01T23:59:60Z']])
  })

  it('clamps and rounds progress to an integer percentage', () => {
    expect([percent(-3), percent(45.6), percent(100), percent(140)]).toEqual([0, 46, 100, 100])
  })
})
