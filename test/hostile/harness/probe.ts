import { once } from 'node:events'
import { Worker } from 'node:worker_threads'

/*
 * The probe: a well-behaved caller asking `{ __typename }` over HTTP at a steady rate for as long as an
 * attack lasts, from an address and with a token of its own (so no per-address or per-caller limit the
 * attacker trips is the probe's). Each probe is sent on time whether or not the previous one answered,
 * and timed from then to the end of its body: a gateway that stalls shows as latency, not as fewer
 * probes. It runs in a worker thread (probe-worker.mjs), so the attacker's own work in this process
 * does not delay its timers and answers; one worker serves every case of a file.
 */

export const PROBE_BODY = '{"data":{"__typename":"Query"}}'

/** A probe unanswered this long counts as failed with this latency: a stalled gateway cannot stall the suite. */
const PROBE_DEADLINE_MS = 5_000
/** 100 probes a second: enough samples in a case of a second or more that p99 is not simply the slowest probe. */
const PROBE_INTERVAL_MS = 10

export interface ProbeSample {
  ms: number
  status: number
  body: string
}

export interface ProbeReport {
  samples: ProbeSample[]
  /** Probes whose answer was not 200 with PROBE_BODY, at most the first five. */
  wrong: ProbeSample[]
  p50: number
  p99: number
  max: number
}

export class Prober {
  private readonly worker: Worker

  constructor (url: string) {
    this.worker = new Worker(new URL('./probe-worker.mjs', import.meta.url), {
      workerData: { url, intervalMs: PROBE_INTERVAL_MS, deadlineMs: PROBE_DEADLINE_MS }
    })
  }

  /**
   * Connects from `address` with `token`, with one request whose answer is not a sample (unless it failed):
   * a caller asking 100 times a second is connected before an attack begins. Any further connection the
   * probe needs (while a probe waits, the next one opens another) is accepted during the attack.
   */
  async open (address: string, token: string): Promise<void> {
    const opened = once(this.worker, 'message')
    this.worker.postMessage({ type: 'open', address, token })
    await opened
  }

  /** Probes `count` times on what `open` set up, nothing else going on: the p99 of a machine as busy as it is now. */
  async baseline (count: number): Promise<number> {
    const answered = once(this.worker, 'message') as Promise<[{ samples: ProbeSample[] }]>
    this.worker.postMessage({ type: 'baseline', count })
    const [{ samples }] = await answered
    return percentile(samples.map((sample) => sample.ms), 0.99)
  }

  /** Starts probing on what `open` set up; resolves once the first probe is on its way. */
  async start (): Promise<void> {
    const started = once(this.worker, 'message')
    this.worker.postMessage({ type: 'start' })
    await started
  }

  /** Stops, once every probe sent has its answer (or its deadline), and reports. */
  async stop (): Promise<ProbeReport> {
    const answered = once(this.worker, 'message') as Promise<[{ samples: ProbeSample[] }]>
    this.worker.postMessage({ type: 'stop' })
    const [{ samples }] = await answered
    const ms = samples.map((sample) => sample.ms)
    return {
      samples,
      wrong: samples.filter((sample) => sample.status !== 200 || sample.body !== PROBE_BODY).slice(0, 5),
      p50: percentile(ms, 0.5),
      p99: percentile(ms, 0.99),
      max: percentile(ms, 1)
    }
  }

  async close (): Promise<void> {
    await this.worker.terminate()
  }
}

/** The nearest-rank percentile `q` of `values`, to a tenth of a ms (0 when there are none). */
function percentile (values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return Math.round((sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0) * 10) / 10
}
