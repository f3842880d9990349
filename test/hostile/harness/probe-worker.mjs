import { parentPort, workerData } from 'node:worker_threads'
import { Agent, request } from 'undici'

/*
 * The probe's loop (probe.ts), in a worker thread of the test's process: the attacker and the emulator
 * share the main thread, and their work there would otherwise be counted as the gateway's latency.
 * Plain JavaScript: a worker thread runs it without the test's TypeScript loader.
 */

const { url, address, token, intervalMs, deadlineMs } = workerData
const agent = new Agent({ localAddress: address, connections: 16, pipelining: 1, keepAliveTimeout: 10_000 })
const body = JSON.stringify({ query: '{ __typename }' })
const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` }
const samples = []
const inFlight = new Set()

const once = () => {
  const start = performance.now()
  const sent = request(`${url}/graphql`, { method: 'POST', headers, body, dispatcher: agent, signal: AbortSignal.timeout(deadlineMs) })
    .then(async (res) => ({ status: res.statusCode, body: await res.body.text() }))
    .then(
      (answer) => { samples.push({ ms: performance.now() - start, ...answer }) },
      (err) => { samples.push({ ms: performance.now() - start, status: 0, body: String(err) }) }
    )
    .finally(() => { inFlight.delete(sent) })
  inFlight.add(sent)
}

once()
const timer = setInterval(once, intervalMs)
parentPort.once('message', async () => {
  clearInterval(timer)
  await Promise.all(inFlight)
  await agent.destroy()
  parentPort.postMessage(samples)
})
