import { readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateTypes, TYPES_FILE } from '../../examples/partner-service/generate.js'
import { runPartner } from '../../examples/partner-service/partner.js'
import { SEED } from '../../src/emulator/index.js'
import type { TestGateway } from '../helpers/gateway.js'
import { freshToken, startModeGateway } from '../helpers/modes.js'

/**
 * The example partner service (examples/partner-service) against the gateway on the emulator, in
 * jwt mode: its generated types are what the document generates today, and its run lists failed
 * tasks, retries one, enriches with an idempotency key and follows the copy to READY; run again
 * with the same key, it gets the same copy and Visual Layer no second enrichment.
 */

describe('examples/partner-service', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startModeGateway('jwt', { POLL_INTERVAL_MS: '250' }) })
  afterAll(async () => { await gw.close() })

  it('has the types the OpenAPI document generates today (regenerate with examples/partner-service/generate.ts)', async () => {
    const document = await (await fetch(`${gw.url}/v1/openapi.json`)).json() as Record<string, unknown>
    expect(await generateTypes(document)).toBe(await readFile(TYPES_FILE, 'utf8'))
  })

  it('lists failed tasks, retries one, enriches with an idempotency key and follows the copy to READY', async () => {
    const token = freshToken('jwt') ?? ''
    gw.emulator.clearCalls()
    const options = {
      baseUrl: gw.url,
      token,
      // The emulator's clock stands still: once the copy's first status arrived, its build finishes.
      onStatus: (dataset: { status: string }) => { if (dataset.status !== 'READY') gw.emulator.advance(3_600_000) }
    }
    const first = await runPartner(options, SEED.datasets.ready, 'partner-run-1')
    expect(first.failedTasks.map((task) => task.id)).toEqual([SEED.tasks.errorCreation])
    expect(first.retried).toEqual({ ...first.retried, id: SEED.tasks.errorCreation, status: 'INITIALIZING', canRetry: false })
    expect(first.statuses.at(-1)).toBe('READY')
    expect(first.statuses.slice(0, -1).every((status) => status !== 'READY' && status !== 'ERROR')).toBe(true)
    const writes = (): string[] => gw.emulator.calls({ method: 'POST' }).map((call) => call.path)
    expect(writes()).toEqual([`/api/v1/tasks/${SEED.tasks.errorCreation}/retry`, `/api/v1/dataset/${SEED.datasets.ready}/enrich_dataset`])

    const again = await runPartner(options, SEED.datasets.ready, 'partner-run-1')
    expect(again).toEqual({ failedTasks: [], retried: null, enrichedDatasetId: first.enrichedDatasetId, statuses: ['READY'] })
    expect(writes()).toHaveLength(2)
  })
})
