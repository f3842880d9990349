import { parentPort, workerData } from 'node:worker_threads'
import { Agent, request } from 'undici'

/*
 * The probe's loop (probe.ts), in a worker thread of the test's process: the attacker and the emulator
 * share the main thread, and their work there would otherwise be counted as the gateway's latency.
 * One worker serves a whole file: each case sends `start` (its address and token) and `stop`, which
 * answers with the samples. Plain JavaScript: a worker thread runs it without the test's TypeScript loader.
 */

const { url, intervalMs, deadlineMs } = workerData
const body = JSON.stringify({ query: '{ __typename }' })
let run = null

function start ({ address, token }) {
  const agent = new Agent({ localAddress: address, connections: 16, pipelining: 1, keepAliveTimeout: 10_000 })
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` }
  const samples = []
  const inFlight = new Set()
  const once = () => {
    const sent = performance.now()
    const probe = request(`${url}/graphql`, { method: 'POST', headers, body, dispatcher: agent, signal: AbortSignal.timeout(deadlineMs) })
      .then(async (res) => ({ status: res.statusCode, body: await res.body.text() }))
      .then(
        (answer) => { samples.push({ ms: performance.now() - sent, ...answer }) },
        (err) => { samples.push({ ms: performance.now() - sent, status: 0, body: String(err) }) }
      )
      .finally(() => { inFlight.delete(probe) })
    inFlight.add(probe)
  }
  once()
  return { agent, samples, inFlight, timer: setInterval(once, intervalMs) }
}

parentPort.on('message', async (message) => {
  if (message.type === 'start') {
    run = start(message)
    parentPort.postMessage({ type: 'started' })
    return
  }
  const ended = run
  run = null
  clearInterval(ended.timer)
  await Promise.all(ended.inFlight)
  // Its connections closed before the case counts the gateway's sockets again.
  await ended.agent.destroy()
  parentPort.postMessage({ type: 'samples', samples: ended.samples })
})
