/**
 * The live-query bench's upstream (bench/live.ts): the Visual Layer emulator in a process of its own,
 * on a frozen clock, grown to `LIVE_BENCH_DATASETS` datasets of which `LIVE_BENCH_MOVING` are being
 * created when it announces itself. The emulator has no route that creates a dataset, so it enriches:
 * each READY dataset's enrichment makes a copy that is READY 30 s of emulator time later (the source
 * turns READ_ONLY), and rounds of that grow the account; the last round's copies are the ones in motion.
 * The bench moves the clock through the control API (`POST /_emulator/clock`).
 */
import { createSigner } from 'fast-jwt'
import { buildEmulator, DEMO_ACCOUNTS } from '../src/emulator/index.js'
import { serve } from './scale/ipc.js'

const WANTED = Number(process.env.LIVE_BENCH_DATASETS ?? 100)
const MOVING = Number(process.env.LIVE_BENCH_MOVING ?? 10)
const { apiKey, apiSecret } = DEMO_ACCOUNTS.primary
const emulator = buildEmulator({ clock: new Date('2026-03-02T12:00:00Z') })
// A Visual Layer token as a client signs it (test/helpers/tokens.ts), on the emulator's clock.
const sign = createSigner({ key: apiSecret, algorithm: 'HS256', kid: apiKey })
const auth = (): Record<string, string> => {
  const iat = Math.floor(emulator.now() / 1000)
  return { authorization: `Bearer ${sign({ sub: apiKey, iss: 'sdk', iat, exp: iat + 600 })}` }
}

async function list (): Promise<Array<{ id: string, status: string }>> {
  const res = await emulator.app.inject({ method: 'GET', url: '/api/v1/datasets', headers: auth() })
  if (res.statusCode !== 200) throw new Error(`list: ${res.statusCode} ${res.body}`)
  return (JSON.parse(res.body) as Array<{ id: string, status_new: string }>).map(({ id, status_new: status }) => ({ id, status }))
}

async function enrich (id: string): Promise<string> {
  const res = await emulator.app.inject({
    method: 'POST',
    url: `/api/v1/dataset/${id}/enrich_dataset`,
    headers: { ...auth(), 'content-type': 'application/json' },
    payload: JSON.stringify({ enrichment_models: { CAPTION_IMAGES: 'vl_image_captioner_v00' } })
  })
  if (res.statusCode !== 200) throw new Error(`enrich ${id}: ${res.statusCode} ${res.body}`)
  return (JSON.parse(res.body) as { dataset_id: string }).dataset_id
}

// Settle the seed's own work, then grow: every READY dataset enriched, 31 s of emulator time, again.
emulator.advance(120_000)
for (;;) {
  const datasets = await list()
  const ready = datasets.filter((dataset) => dataset.status === 'READY')
  if (datasets.length + MOVING >= WANTED && ready.length >= MOVING) break
  if (ready.length === 0) throw new Error('no READY dataset to enrich')
  for (const dataset of ready.slice(0, Math.max(1, WANTED - MOVING - datasets.length))) await enrich(dataset.id)
  emulator.advance(31_000)
}
const settled = await list()
const moving: string[] = []
for (const dataset of settled.filter((d) => d.status === 'READY').slice(0, MOVING)) moving.push(await enrich(dataset.id))
const watched = [...moving, ...settled.map((dataset) => dataset.id).filter((id) => !moving.includes(id))].slice(0, WANTED)

serve((message) => {
  if (message.type === 'datasets') return { watched, moving }
  throw new Error(`unknown request ${message.type}`)
})

await emulator.app.listen({ host: '127.0.0.1', port: 0 })
const address = emulator.app.server.address()
const port = typeof address === 'object' && address !== null ? address.port : 0
process.send?.({ type: 'ready', url: `http://127.0.0.1:${port}` })
