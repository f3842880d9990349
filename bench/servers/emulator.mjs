/*
 * The bench's upstream: the Visual Layer emulator (compiled, dist/) alone in its process, its clock
 * frozen at the moment it starts (so every answer of a run is the same, and the bench can check that the
 * servers answer alike; a token signed now stays valid), with EMULATOR_LATENCY_MS on every /api/v1 call to start with (the bench changes it through
 * POST /_emulator/latency). Over IPC it counts its call log (cheaper than listing it over HTTP) and
 * clears it.
 */
import { startEmulator } from '../../dist/emulator/index.js'

// EMULATOR_CLOCK=real (the soak): the clock moves, so datasets being built change and subscribers get events.
const emulator = await startEmulator({
  clock: process.env.EMULATOR_CLOCK === 'real' ? 'real' : Date.now(),
  latencyMs: Number(process.env.EMULATOR_LATENCY_MS ?? 0),
  // The distinct-ids case: a dataset of its own for every request (extraDatasetId(i)).
  extraDatasets: Number(process.env.EMULATOR_EXTRA_DATASETS ?? 0)
})

const answer = (message) => {
  switch (message.type) {
    case 'callCount': {
      const calls = emulator.calls(message.path === undefined ? {} : { path: message.path })
      return { calls: calls.length, failed: calls.filter((call) => call.status !== 200).length }
    }
    case 'clearCalls':
      emulator.clearCalls()
      return true
    case 'close':
      return emulator.close().then(() => true)
    default:
      throw new Error(`unknown request ${message.type}`)
  }
}
process.on('message', (message) => {
  Promise.resolve().then(() => answer(message)).then(
    (value) => process.send?.({ id: message.id, ok: true, value }),
    (err) => process.send?.({ id: message.id, ok: false, error: err instanceof Error ? err.message : String(err) })
  )
})
process.on('disconnect', () => { process.exit(0) })
process.send?.({ type: 'ready', url: emulator.url })
