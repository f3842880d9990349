import { DEMO_ACCOUNTS, SEED, type RunningEmulator } from '../../src/emulator/index.js'
import { visualLayerToken } from './tokens.js'

/*
 * More datasets than the seed has, for tests and measurements that watch many: enriched copies of
 * one READY dataset, made at the emulator directly (no gateway in the way, so no gateway counts
 * them). The emulator's clock is moved 30 s after each, so that the source is READY again for the
 * next one and every copy is READY at the end.
 */

const CAPTIONS = { CAPTION_IMAGES: 'vl_image_captioner_v00' }

/** Starts an enrichment of `datasetId` at the emulator; its copy's id. */
export async function enrichAtEmulator (emulator: RunningEmulator, datasetId: string): Promise<string> {
  const token = visualLayerToken(DEMO_ACCOUNTS.primary, {}, emulator.now())
  const res = await fetch(`${emulator.url}/api/v1/dataset/${datasetId}/enrich_dataset`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ enrichment_models: CAPTIONS })
  })
  const body = await res.json() as { dataset_id?: string }
  if (res.status !== 200 || typeof body.dataset_id !== 'string') throw new Error(`enrichment of ${datasetId}: ${res.status} ${JSON.stringify(body)}`)
  return body.dataset_id
}

/** `count` READY datasets of the primary account, new ones. */
export async function readyCopies (emulator: RunningEmulator, count: number): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < count; i++) {
    ids.push(await enrichAtEmulator(emulator, SEED.datasets.ready))
    emulator.advance(30_000)
  }
  return ids
}
