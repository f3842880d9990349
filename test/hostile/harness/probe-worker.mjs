import { parentPort, workerData } from 'node:worker_threads'
import { Agent, request } from 'undici'

/*
 * The probe's loop (probe.ts), in a worker thread of the test's process: the attacker and the emulator
 * share the main thread, and their work there would otherwise be counted as the gateway's latency.
 * One worker serves a whole file: each case sends `open` (its address and token), `start` and `stop`,
 * which answers with the samples. Plain JavaScript: a worker thread runs it without the test's TypeScript loader.
 */

const { url, intervalMs, deadlineMs } = workerData
const body = JSON.stringify({ query: '{ __typename }' })
let run = null

/**
 * Opens the case's connection with one request before the attack (a caller asking 100 times a second was
 * connected before any attack began); its answer is not a sample. Resolves with the run, not yet probing.
 */
async function open ({ address, token }) {
  const agent = new Agent({ localAddress: address, connections: 16, pipelining: 1, keepAliveTimeout: 10_000 })
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` }
  const samples = []
  const ask = async () => {
    const sent = performance.now()
    try {
      const res = await request(`${url}/graphql`, { method: 'POST', headers, body, dispatcher: agent, signal: AbortSignal.timeout(deadlineMs) })
      samples.push({ ms: performance.now() - sent, status: res.statusCode, body: await res.body.text() })
    } catch (err) {
      samples.push({ ms: performance.now() - sent, status: 0, body: String(err) })
    }
  }
  await ask()
  // The opening request counts only when it failed: a gateway that cannot answer before the attack fails the case.
  if (samples[0].status === 200) samples.length = 0
  return { agent, samples, ask, inFlight: new Set(), timer: undefined }
}

function start (opened) {
  const once = () => {
    const probe = opened.ask().finally(() => { opened.inFlight.delete(probe) })
    opened.inFlight.add(probe)
  }
  once()
  opened.timer = setInterval(once, intervalMs)
}

/** Probes `count` times on the interval, then stops: the case's baseline, before its attack; its samples are not the case's. */
async function baseline (opened, count) {
  await new Promise((resolve) => {
    const once = () => {
      const probe = opened.ask().finally(() => { opened.inFlight.delete(probe) })
      opened.inFlight.add(probe)
      if (opened.samples.length + opened.inFlight.size >= count) {
        clearInterval(timer)
        resolve()
      }
    }
    const timer = setInterval(once, intervalMs)
    once()
  })
  await Promise.all(opened.inFlight)
  return opened.samples.splice(0)
}

parentPort.on('message', async (message) => {
  if (message.type === 'baseline') {
    parentPort.postMessage({ type: 'baseline', samples: await baseline(run, message.count) })
    return
  }
  if (message.type === 'open') {
    run = await open(message)
    parentPort.postMessage({ type: 'opened' })
    return
  }
  if (message.type === 'start') {
    start(run)
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
