import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { SEED } from '../../src/emulator/index.js'
import type { RunningEmulator } from '../../src/emulator/index.js'
import { call, SECONDARY, signToken, startTestEmulator } from './helpers.js'

let emulator: RunningEmulator
beforeAll(async () => { emulator = await startTestEmulator() })
afterAll(async () => { await emulator.close() })
beforeEach(() => { emulator.reset() })

const secondaryToken = () => signToken({ account: SECONDARY })

describe('healthcheck', () => {
  it('answers Visual Layer\'s body without authentication', async () => {
    const answer = await call(emulator, '/api/v1/healthcheck', { token: null })
    expect(answer.status).toBe(200)
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/)
    expect(answer.body).toEqual({ status: 'Green', 'service-health-message': 'none', version: '2.42.190' })
  })
})

describe('unknown routes and methods', () => {
  it('answers 404 {"detail":"Not Found"} for an unknown path, inside and outside /api/v1', async () => {
    expect(await call(emulator, '/api/v1/nothing-here')).toMatchObject({ status: 404, body: { detail: 'Not Found' } })
    expect(await call(emulator, '/', { token: null })).toMatchObject({ status: 404, body: { detail: 'Not Found' } })
  })

  it('answers 405 {"detail":"Method Not Allowed"} with Allow for a known path and a wrong method', async () => {
    const answer = await call(emulator, '/api/v1/datasets', { method: 'DELETE' })
    expect(answer.status).toBe(405)
    expect(answer.body).toEqual({ detail: 'Method Not Allowed' })
    expect(answer.headers.get('allow')).toBe('GET')
    const abort = await call(emulator, `/api/v1/tasks/${SEED.tasks.indexingCreation}/abort`, { method: 'GET' })
    expect(abort).toMatchObject({ status: 405, body: { detail: 'Method Not Allowed' } })
    expect(abort.headers.get('allow')).toBe('POST')
  })
})

describe('GET /api/v1/dataset/{dataset_id}', () => {
  it('returns the documented fields of a READY dataset', async () => {
    const answer = await call(emulator, `/api/v1/dataset/${SEED.datasets.ready}`)
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual({
      id: 'b1a39406-123d-11f1-9353-fa39f6ed1f22',
      display_name: 'Product Images Q1',
      description: 'Catalog photos for the Q1 product launch',
      source_type: 'BUCKET',
      owned_by: 'VL',
      created_at: '2026-01-20T08:47:55.439563',
      status_new: 'READY',
      progress: 100,
      n_images: 4812,
      n_videos: 0,
      n_objects: 0,
      fatal_error_msg: null,
      source_dataset_id: null
    })
  })

  it('shows every seeded status', async () => {
    const statuses: Record<string, [string, number, string | null]> = {}
    for (const key of ['ready', 'enriched', 'readOnly', 'partialIndex', 'indexing', 'draft', 'error', 'aborted', 'hidden'] as const) {
      const { body } = await call(emulator, `/api/v1/dataset/${SEED.datasets[key]}`)
      const dataset = body as { status_new: string, progress: number, fatal_error_msg: string | null }
      statuses[key] = [dataset.status_new, dataset.progress, dataset.fatal_error_msg]
    }
    expect(statuses).toEqual({
      ready: ['READY', 100, null],
      enriched: ['READY', 100, null],
      readOnly: ['READ ONLY', 100, null],
      partialIndex: ['PARTIAL INDEX', 100, null],
      indexing: ['INDEXING', 14, null],
      draft: ['DRAFT', 0, null],
      error: ['ERROR', 37, 'Failed to read 312 of 1,204 files from s3://acme-medical-imaging/batch-7: AccessDenied'],
      aborted: ['ERROR', 35, 'Dataset creation was aborted'],
      hidden: ['READY', 100, null]
    })
  })

  it('links an enriched copy to its source and counts its objects', async () => {
    const { body } = await call(emulator, `/api/v1/dataset/${SEED.datasets.enriched}`)
    expect(body).toMatchObject({ display_name: 'Retail Shelf Photos (enriched)', source_dataset_id: SEED.datasets.enrichedSource, n_objects: 18934 })
  })

  it('accepts a UUID in upper case or without hyphens', async () => {
    const upper = await call(emulator, `/api/v1/dataset/${SEED.datasets.ready.toUpperCase()}`)
    const simple = await call(emulator, `/api/v1/dataset/${SEED.datasets.ready.replaceAll('-', '')}`)
    expect([upper.status, simple.status]).toEqual([200, 200])
    expect((simple.body as { id: string }).id).toBe(SEED.datasets.ready)
  })

  it('answers 422 uuid_parsing for a malformed id', async () => {
    const answer = await call(emulator, '/api/v1/dataset/not-a-uuid')
    expect(answer.status).toBe(422)
    const error = 'invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `n` at 1'
    expect(answer.body).toEqual({
      detail: [{ type: 'uuid_parsing', loc: ['path', 'dataset_id'], msg: `Input should be a valid UUID, ${error}`, input: 'not-a-uuid', ctx: { error } }]
    })
  })

  it('answers 404 for a missing dataset and, identically, for another account\'s', async () => {
    const missing = await call(emulator, '/api/v1/dataset/00000000-0000-4000-8000-000000000000')
    const foreign = await call(emulator, `/api/v1/dataset/${SEED.datasets.secondaryAccount}`)
    expect(missing).toMatchObject({ status: 404, body: { detail: 'Dataset not found' } })
    expect(foreign).toMatchObject({ status: 404, text: missing.text })
    const own = await call(emulator, `/api/v1/dataset/${SEED.datasets.secondaryAccount}`, { token: secondaryToken() })
    expect(own.status).toBe(200)
    expect(await call(emulator, `/api/v1/dataset/${SEED.datasets.ready}`, { token: secondaryToken() })).toMatchObject({ status: 404, body: { detail: 'Dataset not found' } })
  })
})

describe('GET /api/v1/datasets/{dataset_id}/creation-status', () => {
  it('returns status_new and progress', async () => {
    expect((await call(emulator, `/api/v1/datasets/${SEED.datasets.indexing}/creation-status`)).body).toEqual({ status: 'INDEXING', progress: 14 })
    expect((await call(emulator, `/api/v1/datasets/${SEED.datasets.readOnly}/creation-status`)).body).toEqual({ status: 'READ ONLY', progress: 100 })
  })

  it('answers 404 for a foreign dataset and 422 for a malformed id', async () => {
    expect(await call(emulator, `/api/v1/datasets/${SEED.datasets.secondaryError}/creation-status`)).toMatchObject({ status: 404, body: { detail: 'Dataset not found' } })
    expect((await call(emulator, '/api/v1/datasets/123/creation-status')).status).toBe(422)
  })
})

describe('GET /api/v1/datasets', () => {
  const ids = (body: unknown) => (body as Array<{ id: string }>).map((dataset) => dataset.id)

  it('lists the caller\'s visible datasets, newest first, with the list-only fields', async () => {
    const answer = await call(emulator, '/api/v1/datasets')
    expect(answer.status).toBe(200)
    expect(ids(answer.body)).toEqual([
      SEED.datasets.indexing, SEED.datasets.draft, SEED.datasets.error, SEED.datasets.aborted, SEED.datasets.readOnly,
      SEED.datasets.enriched, SEED.datasets.partialIndex, SEED.datasets.enrichedSource, SEED.datasets.readySecond, SEED.datasets.ready
    ])
    const ready = (answer.body as Array<Record<string, unknown>>).find((dataset) => dataset.id === SEED.datasets.ready)
    expect(ready).toMatchObject({
      status_new: 'READY',
      created_by: 'rachel@acme.example',
      updated_at: '2026-02-21T14:06:20.000000',
      preview_uri: `https://assets.visual-layer.example/previews/${SEED.datasets.ready}/cover.jpg`
    })
    const draft = (answer.body as Array<Record<string, unknown>>).find((dataset) => dataset.id === SEED.datasets.draft)
    expect(draft).toMatchObject({ status_new: 'DRAFT', preview_uri: null, created_by: 'priya.shah@acme.example' })
  })

  it('sorts by name and includes the hidden dataset only on request', async () => {
    const answer = await call(emulator, '/api/v1/datasets?sort_by=name&include_hidden=true')
    expect((answer.body as Array<{ display_name: string }>).map((dataset) => dataset.display_name)).toEqual([
      'Archived: Legacy Catalog 2023', 'Customer Uploads April', 'Drone Survey March', 'Holiday Campaign 2025', 'Medical Scans Batch 7',
      'Product Images Q1', 'Retail Shelf Photos', 'Retail Shelf Photos (enriched)', 'Street Scenes 2025', 'Training Set v2', 'Warehouse Inspection'
    ])
  })

  it('shows another account only its own datasets', async () => {
    const answer = await call(emulator, '/api/v1/datasets', { token: secondaryToken() })
    expect(ids(answer.body)).toEqual([SEED.datasets.secondaryError, SEED.datasets.secondaryReady, SEED.datasets.secondaryAccount])
  })

  it('answers 422 for an unknown sort_by and an unreadable include_hidden', async () => {
    const answer = await call(emulator, '/api/v1/datasets?sort_by=size&include_hidden=maybe')
    expect(answer.status).toBe(422)
    expect(answer.body).toEqual({
      detail: [
        { type: 'enum', loc: ['query', 'sort_by'], msg: "Input should be 'date' or 'name'", input: 'size', ctx: { expected: "'date' or 'name'" } },
        { type: 'bool_parsing', loc: ['query', 'include_hidden'], msg: 'Input should be a valid boolean, unable to interpret input', input: 'maybe' }
      ]
    })
  })
})
