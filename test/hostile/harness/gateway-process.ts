import { fork, type ChildProcess } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bundleEntry, removeBundle } from '../../helpers/bundle.js'
import type { ChildMessage, ChildRequest, Holdings, Measurement } from './child.js'

/*
 * The parent's side of the gateway under attack (child.ts): starts it with the environment a suite
 * gives, waits for it to listen, and asks it for measurements over IPC. Its log lines go to a file,
 * not through this process (reading them here would cost the probe's event loop), and the file's tail
 * is shown when a case fails.
 */

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url))
const START_DEADLINE_MS = 30_000
const ANSWER_DEADLINE_MS = 15_000

export interface GatewayProcessOptions {
  /** The gateway's environment: nothing else from this process reaches it. */
  env: Record<string, string>
  /** --max-old-space-size, in MB. */
  maxOldSpaceMb: number
  /** The gateway's code, from bundleGateway. */
  bundle: string
}

/** child.ts and the sources it imports (src/), bundled (test/helpers/bundle.ts). */
export async function bundleGateway (): Promise<string> {
  return await bundleEntry(CHILD)
}

export { removeBundle }

export class GatewayProcess {
  private nextId = 1
  private readonly waiting = new Map<number, { resolve: (message: ChildMessage) => void, reject: (err: Error) => void }>()
  /** Set once the process exited: how, for the failure message of whatever asked it next. */
  exited: string | null = null

  private constructor (private readonly child: ChildProcess, readonly url: string, readonly logPath: string) {
    child.on('message', (message: ChildMessage) => {
      if (!('id' in message)) return
      const waiter = this.waiting.get(message.id)
      this.waiting.delete(message.id)
      waiter?.resolve(message)
    })
    child.on('exit', (code, signal) => {
      this.exited = `the gateway process exited (${signal ?? `code ${String(code)}`}); its log: ${logPath}`
      for (const waiter of this.waiting.values()) waiter.reject(new Error(this.exited))
      this.waiting.clear()
    })
  }

  static async start ({ env, maxOldSpaceMb, bundle }: GatewayProcessOptions): Promise<GatewayProcess> {
    const logPath = join(mkdtempSync(join(tmpdir(), 'hostile-')), 'gateway.log')
    const log = openSync(logPath, 'w')
    const child = fork(bundle, [], {
      execArgv: ['--expose-gc', `--max-old-space-size=${maxOldSpaceMb}`, '--enable-source-maps'],
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', log, log, 'ipc']
    })
    closeSync(log)
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`the gateway did not start within ${START_DEADLINE_MS} ms; its log: ${logPath}`)) }, START_DEADLINE_MS)
      child.on('message', (message: ChildMessage) => {
        if ('type' in message && message.type === 'ready') { clearTimeout(timer); resolve(message.url) }
      })
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the gateway exited with code ${String(code)} at start-up: ${tail(logPath)}`)) })
    })
    return new GatewayProcess(child, url, logPath)
  }

  get alive (): boolean {
    return this.exited === null
  }

  /** Heap and memory after GC, open sockets, event-loop delay since the last resetLoop. */
  async measure (): Promise<Measurement> {
    const answer = await this.ask({ type: 'measure' })
    if (!('id' in answer) || answer.measurement === undefined) throw new Error('no measurement in the answer')
    return answer.measurement
  }

  /** The event-loop delay since the last resetLoop, with no collection. */
  async loopDelay (): Promise<Measurement['loop']> {
    const answer = await this.ask({ type: 'loop' })
    if (!('id' in answer) || answer.loop === undefined) throw new Error('no loop delay in the answer')
    return answer.loop
  }

  async resetLoop (): Promise<void> {
    await this.ask({ type: 'reset-loop' })
  }

  /** Waits until the gateway holds no more than `target` (sockets, pollers), at most `withinMs`; what it holds then. */
  async settle (target: Holdings, withinMs: number): Promise<Holdings & { ms: number }> {
    const answer = await this.ask({ type: 'settle', ...target, withinMs }, withinMs + ANSWER_DEADLINE_MS)
    if (!('id' in answer) || answer.holdings === undefined) throw new Error('no holdings in the answer')
    return answer.holdings
  }

  /** Waits until the gateway's link to Redis is up again, at most `withinMs`; whether it is. */
  async redisUp (withinMs: number): Promise<boolean> {
    const answer = await this.ask({ type: 'redis-up', withinMs }, withinMs + ANSWER_DEADLINE_MS)
    return 'id' in answer && answer.redisUp === true
  }

  /** Waits until no webhook attempt is running in the gateway (their outcomes saved), at most `withinMs`; whether none is. */
  async webhooksSettled (withinMs: number): Promise<boolean> {
    const answer = await this.ask({ type: 'webhooks-settled', withinMs }, withinMs + ANSWER_DEADLINE_MS)
    return 'id' in answer && answer.settled === true
  }

  /** The last lines of the gateway's log, for a failure message. */
  logTail (lines = 20): string {
    return tail(this.logPath, lines)
  }

  /** Kills the process at once (SIGKILL): nothing it holds is handed back, nothing it was doing finishes. */
  async kill (): Promise<void> {
    if (!this.alive) return
    const exited = new Promise<void>((resolve) => { this.child.once('exit', () => { resolve() }) })
    this.child.kill('SIGKILL')
    await exited
  }

  /** Webhook attempts running in the gateway now. */
  async webhookAttempts (): Promise<number> {
    const answer = await this.ask({ type: 'webhooks-running' })
    return 'id' in answer ? answer.running ?? 0 : 0
  }

  async close (): Promise<void> {
    if (!this.alive) return
    const exited = new Promise<void>((resolve) => { this.child.once('exit', () => { resolve() }) })
    try {
      await this.ask({ type: 'close' })
    } catch {}
    this.child.disconnect()
    const timer = setTimeout(() => { this.child.kill('SIGKILL') }, 5_000)
    await exited
    clearTimeout(timer)
  }

  private async ask (request: DistributiveOmit<ChildRequest, 'id'>, deadlineMs = ANSWER_DEADLINE_MS): Promise<ChildMessage> {
    if (this.exited !== null) throw new Error(this.exited)
    const id = this.nextId++
    return await new Promise<ChildMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id)
        reject(new Error(`the gateway did not answer "${request.type}" within ${deadlineMs} ms (its event loop is blocked?)`))
      }, deadlineMs)
      this.waiting.set(id, {
        resolve: (message) => { clearTimeout(timer); resolve(message) },
        reject: (err) => { clearTimeout(timer); reject(err) }
      })
      this.child.send({ ...request, id } as ChildRequest)
    })
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

function tail (path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}
