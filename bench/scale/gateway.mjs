/**
 * The scale bench's gateway, alone in its process (built as bench/run.ts builds it), with its
 * upstream at VL_BASE_URL. Over IPC it answers what only it can see: a garbage collection before a
 * memory reading, its heap and resource figures and running pollers, a heap snapshot. The side-by-side
 * bench (bench/run.ts) and the soak (bench/soak.ts) run it too.
 *
 * Plain JavaScript so that it can run the compiled gateway (dist/, as `npm start` does) under plain
 * node: under tsx every function of src/ gets its name defined by esbuild's keepNames, which costs
 * each closure a property array and inflates the memory measured. SCALE_GATEWAY_BUILD=src runs the
 * TypeScript sources through tsx instead (no build needed, figures a little higher); SCALE_GATEWAY_BUILD=<dir>
 * runs the build in that directory of the repository (bench/run.ts' BENCH_GATEWAY_BEFORE).
 */
import { writeHeapSnapshot } from 'node:v8'

// Or a directory of the repository holding another build (BENCH_GATEWAY_BEFORE: a build before a change).
const build = process.env.SCALE_GATEWAY_BUILD
const root = build === 'src' ? '../../src/' : build === undefined || build === '' ? '../../dist/' : `../../${build}/`
const { buildApp } = await import(`${root}app.js`)
const { loadConfig } = await import(`${root}config.js`)
const app = await buildApp(loadConfig(process.env))

async function answer (message) {
  switch (message.type) {
    case 'gc':
      // Twice: the first pass may only queue finalizers whose objects the second frees.
      globalThis.gc?.()
      globalThis.gc?.()
      return globalThis.gc !== undefined
    case 'memory': {
      const counts = {}
      for (const name of process.getActiveResourcesInfo()) counts[name] = (counts[name] ?? 0) + 1
      return { memory: process.memoryUsage(), resourceUsage: process.resourceUsage(), activeResources: counts, pollers: app.live.size }
    }
    case 'live': {
      // What live queries did (bench/live.ts): their counts, and polls by resource and outcome.
      const { values } = await app.metrics.polls.get()
      const polls = {}
      for (const { labels, value } of values) polls[`${labels.resource} ${labels.outcome}`] = value
      return { counts: { ...app.pipeline.settings.liveQueries.counts }, size: app.pipeline.settings.liveQueries.size, polls, pollers: app.live.size }
    }
    case 'heapSnapshot':
      return writeHeapSnapshot(String(message.path))
    case 'close':
      await app.close()
      return true
    default:
      throw new Error(`unknown request ${message.type}`)
  }
}

// The same request/answer protocol as ipc.ts' serve(), which this file cannot import without tsx.
process.on('message', (message) => {
  answer(message).then(
    (value) => process.send?.({ id: message.id, ok: true, value }),
    (err) => process.send?.({ id: message.id, ok: false, error: err instanceof Error ? err.message : String(err) })
  )
})
process.on('disconnect', () => { process.exit(0) })
// An exit of its own on SIGTERM, so that --cpu-prof (SCALE_GATEWAY_NODE_FLAGS) writes its profile.
process.on('SIGTERM', () => { process.exit(0) })

const url = await app.listen({ host: '127.0.0.1', port: 0 })
process.send?.({ type: 'ready', url })
