/**
 * The scale bench's upstream: the Visual Layer emulator in a process of its own (its memory is not
 * the gateway's), on a frozen clock the bench moves through the control API. It also notes the real
 * arrival time of each /api/v1 call (the call log's `at` is the frozen emulator clock), so the bench
 * can check the gap between one dataset's polls.
 */
import { buildEmulator } from '../../src/emulator/index.js'
import { serve } from './ipc.js'

const emulator = buildEmulator({ clock: new Date('2026-03-02T12:00:00Z') })
const arrivals: Array<{ path: string, at: number }> = []
emulator.app.addHook('onRequest', async (request) => {
  if (request.url.startsWith('/api/v1/')) arrivals.push({ path: request.url.split('?')[0] ?? '', at: Date.now() })
})

serve((message) => {
  if (message.type === 'arrivals') {
    const since = Number(message.since ?? 0)
    return arrivals.filter((arrival) => arrival.at >= since)
  }
  if (message.type === 'clearArrivals') {
    arrivals.length = 0
    return true
  }
  throw new Error(`unknown request ${message.type}`)
})

await emulator.app.listen({ host: '127.0.0.1', port: 0 })
const address = emulator.app.server.address()
const port = typeof address === 'object' && address !== null ? address.port : 0
process.send?.({ type: 'ready', url: `http://127.0.0.1:${port}` })
