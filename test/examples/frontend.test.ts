import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateClientFiles } from '../../examples/frontend/codegen.js'
import { runFrontend, type FrontendReport } from '../../examples/frontend/client.js'
import { SEED } from '../../src/emulator/index.js'
import type { TestGateway } from '../helpers/gateway.js'
import { freshToken, startModeGateway } from '../helpers/modes.js'

/**
 * The example frontend (examples/frontend) against the gateway on the emulator, in jwt and
 * passthrough modes with real tokens, and with TRUSTED_DOCUMENTS_ONLY on the manifest its codegen
 * wrote: its generated files are what the client preset generates today from schema.graphql, and
 * its run of the example operations (docs/graphql.md) (sent by document id, over HTTP and WebSocket) gets the
 * seeded data and follows the enriched copy to READY.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const MANIFEST = fileURLToPath(new URL('../../examples/frontend/gql/persisted-documents.json', import.meta.url))

describe('examples/frontend: generated files', () => {
  it('are what the client preset generates today (regenerate with `npx tsx examples/frontend/codegen.ts`)', async () => {
    const files = await generateClientFiles()
    expect([...files.keys()].sort()).toEqual([
      'examples/frontend/gql/gql.ts',
      'examples/frontend/gql/graphql.ts',
      'examples/frontend/gql/index.ts',
      'examples/frontend/gql/persisted-documents.json'
    ])
    for (const [path, content] of files) expect(content, path).toBe(await readFile(`${ROOT}${path}`, 'utf8'))
    // One sha256 document id per operation of documents.ts.
    expect(Object.keys(JSON.parse(files.get('examples/frontend/gql/persisted-documents.json') ?? '{}') as object)).toHaveLength(5)
  })
})

describe.each(['jwt', 'passthrough'] as const)('examples/frontend (AUTH_MODE=%s, TRUSTED_DOCUMENTS_ONLY)', (mode) => {
  let gw: TestGateway
  beforeAll(async () => {
    gw = await startModeGateway(mode, { POLL_INTERVAL_MS: '250', TRUSTED_DOCUMENTS: MANIFEST, TRUSTED_DOCUMENTS_ONLY: 'true' })
  })
  afterAll(async () => { await gw.close() })

  it('runs the dashboard, a dataset with its models, the task manager and an enrichment, then follows the copy to READY', async () => {
    gw.emulator.clearCalls()
    const report: FrontendReport = await runFrontend({
      baseUrl: gw.url,
      token: freshToken(mode) ?? '',
      // The emulator's clock stands still: once the copy's first status arrived, its build finishes.
      onStatus: (status) => { if (status.status !== 'READY') gw.emulator.advance(3_600_000) }
    }, SEED.datasets.ready, `frontend-${mode}`)

    expect(report.dashboard.datasets.map((dataset) => [dataset.displayName, dataset.status])).toEqual([
      ['Drone Survey March', 'INDEXING'],
      ['Customer Uploads April', 'DRAFT'],
      ['Medical Scans Batch 7', 'ERROR'],
      ['Holiday Campaign 2025', 'ERROR'],
      ['Warehouse Inspection', 'READ_ONLY'],
      ['Retail Shelf Photos (enriched)', 'READY'],
      ['Street Scenes 2025', 'PARTIAL_INDEX'],
      ['Retail Shelf Photos', 'READY'],
      ['Training Set v2', 'READY'],
      ['Product Images Q1', 'READY']
    ])
    expect(report.dashboard.datasets.find((dataset) => dataset.id === SEED.datasets.enriched)).toEqual({
      id: SEED.datasets.enriched,
      displayName: 'Retail Shelf Photos (enriched)',
      status: 'READY',
      progress: 100,
      imageCount: 2260,
      objectCount: 18934,
      createdAt: '2026-02-09T04:14:30.782Z',
      sourceDataset: { displayName: 'Retail Shelf Photos' },
      enrichment: {
        status: 'COMPLETED',
        applied: [
          { type: 'CAPTION_IMAGES', model: { name: 'VL-Image-Captioner', vendor: 'VL' } },
          { type: 'OBJECT_DETECTION', model: { name: 'VL-Object-Detector', vendor: 'VL' } }
        ]
      }
    })
    expect(report.dataset).toEqual({
      dataset: {
        displayName: 'Product Images Q1',
        status: 'READY',
        isReady: true,
        errorMessage: null,
        creationStatus: { status: 'READY', progress: 100 },
        models: [
          { id: 'vl_image_captioner_v00', name: 'VL-Image-Captioner', type: 'CAPTION_IMAGES', dependencies: [] },
          { id: 'vl_object_detector_v00', name: 'VL-Object-Detector', type: 'OBJECT_DETECTION', dependencies: [] },
          { id: 'vl_object_captioner_v00', name: 'VL-Object-Captioner', type: 'CAPTION_OBJECTS', dependencies: ['OBJECT_DETECTION'] }
        ]
      }
    })
    const { tasks, taskFilterOptions } = report.taskManager
    expect({ total: tasks.total, hasNextPage: tasks.hasNextPage, statuses: [...new Set(tasks.nodes.map((task) => task.status))] })
      .toEqual({ total: 10, hasNextPage: false, statuses: ['FAILED'] })
    expect(tasks.nodes[0]).toEqual({
      id: '6d8169b4-e102-5d53-871d-2a8b8dad9ae5',
      type: 'SNAPSHOT_CLONE',
      status: 'FAILED',
      errorMessage: 'Dataset quota reached (50 datasets); delete unused datasets and retry',
      startTime: '2026-03-01T08:57:00Z',
      canRetry: false,
      dataset: { displayName: 'Street Scenes 2025', status: 'PARTIAL_INDEX' }
    })
    expect(taskFilterOptions.createdBy).toEqual(['dan.okafor@acme.example', 'priya.shah@acme.example', 'rachel@acme.example'])
    expect(taskFilterOptions.taskTypes).toEqual(['CUSTOM_METADATA', 'DATASET_CREATION', 'ENRICHMENT', 'MEDIA_ADDITION', 'REINDEX', 'SNAPSHOT_CLONE', 'SNAPSHOT_RESTORE'])

    const copy = report.enrichment.enrichDataset.enrichedDatasetId
    expect(report.enrichment).toEqual({
      enrichDataset: { enrichedDatasetId: copy, sourceDataset: { status: 'READ_ONLY' }, enrichedDataset: { status: 'DRAFT', progress: 0 } }
    })
    expect(report.statuses).toEqual([{ status: 'DRAFT', progress: 0, imageCount: 4812 }, { status: 'READY', progress: 100, imageCount: 4812 }])
    expect(gw.emulator.calls({ method: 'POST' }).map((call) => call.path)).toEqual([`/api/v1/dataset/${SEED.datasets.ready}/enrich_dataset`])
    expect(gw.emulator.calls().filter((call) => call.path === `/api/v1/dataset/${copy}`).length).toBeGreaterThanOrEqual(3)
  })
})
