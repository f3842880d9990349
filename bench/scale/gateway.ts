/**
 * The scale bench's gateway, alone in its process (built as bench/run.ts builds it), with its
 * upstream at VL_BASE_URL. Over IPC it answers what only it can see: a garbage collection before a
 * memory reading, its heap and resource figures, a heap snapshot.
 */
import { writeHeapSnapshot } from 'node:v8'
import { buildApp, type ResolvedConfig } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { serve } from './ipc.js'

const config = loadConfig(process.env) as ResolvedConfig
const app = await buildApp(config)

serve(async (message) => {
  switch (message.type) {
    case 'gc':
      // Twice: the first pass may only queue finalizers whose objects the second frees.
      globalThis.gc?.()
      globalThis.gc?.()
      return globalThis.gc !== undefined
    case 'memory': {
      const resources = process.getActiveResourcesInfo()
      const counts: Record<string, number> = {}
      for (const name of resources) counts[name] = (counts[name] ?? 0) + 1
      return { memory: process.memoryUsage(), resourceUsage: process.resourceUsage(), activeResources: counts }
    }
    case 'heapSnapshot':
      return writeHeapSnapshot(String(message.path))
    case 'close':
      await app.close()
      return true
    default:
      throw new Error(`unknown request ${message.type}`)
  }
})

const url = await app.listen({ host: '127.0.0.1', port: 0 })
process.send?.({ type: 'ready', url })
