/*
 * What a bench server process answers over its IPC channel, in the request/answer protocol of
 * bench/scale/ipc.ts (the same messages as bench/scale/gateway.mjs): a full garbage collection before
 * a memory reading (the process runs with --expose-gc), its memory figures, and close. Plain
 * JavaScript so that the servers run under plain node, without tsx's transform in their CPU time.
 */
export function answerControl (close) {
  const answer = async (message) => {
    switch (message.type) {
      case 'gc':
        // Twice: the first pass may only queue finalizers whose objects the second frees.
        globalThis.gc?.()
        globalThis.gc?.()
        return globalThis.gc !== undefined
      case 'memory': {
        const counts = {}
        for (const name of process.getActiveResourcesInfo()) counts[name] = (counts[name] ?? 0) + 1
        return { memory: process.memoryUsage(), resourceUsage: process.resourceUsage(), activeResources: counts }
      }
      case 'close':
        await close()
        return true
      default:
        throw new Error(`unknown request ${message.type}`)
    }
  }
  process.on('message', (message) => {
    answer(message).then(
      (value) => process.send?.({ id: message.id, ok: true, value }),
      (err) => process.send?.({ id: message.id, ok: false, error: err instanceof Error ? err.message : String(err) })
    )
  })
  process.on('disconnect', () => { process.exit(0) })
}
