import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/*
 * Request/answer over a forked child's IPC channel: the bench asks the gateway and the emulator
 * processes for what only they can see (their memory, their real-time call arrivals).
 */

export interface Message { id?: number, type: string, [key: string]: unknown }

export type Handler = (message: Message) => unknown

/** In a child: answers each request with what `handler` returns (awaited), under the same id. */
export function serve (handler: Handler): void {
  process.on('message', (raw: Message) => {
    void (async () => {
      try {
        process.send?.({ id: raw.id, ok: true, value: await handler(raw) })
      } catch (err) {
        process.send?.({ id: raw.id, ok: false, error: err instanceof Error ? err.message : String(err) })
      }
    })()
  })
  // The bench going away takes this process with it.
  process.on('disconnect', () => { process.exit(0) })
}

export interface Child {
  readonly pid: number
  readonly process: ChildProcess
  ask: <T = unknown>(type: string, body?: Record<string, unknown>) => Promise<T>
  /** The first message sent without an id (the child's "ready" announcement). */
  ready: Promise<Message>
  stop: () => Promise<void>
}

/** Forks `script` with `env` and node flags (`--import tsx` to run TypeScript). */
export function spawnChild (script: string, env: Record<string, string>, nodeFlags: string[] = []): Child {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), [], {
    execArgv: nodeFlags,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  if (child.pid === undefined) throw new Error(`could not start ${script}`)
  let next = 1
  const waiting = new Map<number, { resolve: (value: unknown) => void, reject: (err: Error) => void }>()
  let announce: (message: Message) => void = () => {}
  const ready = new Promise<Message>((resolve, reject) => {
    announce = resolve
    child.once('exit', (code) => { reject(new Error(`${script} exited with ${code} before it was ready`)) })
  })
  child.on('message', (message: Message & { ok?: boolean, value?: unknown, error?: string }) => {
    if (message.id === undefined) {
      announce(message)
      return
    }
    const pending = waiting.get(message.id)
    waiting.delete(message.id)
    if (message.ok === true) pending?.resolve(message.value)
    else pending?.reject(new Error(message.error))
  })
  return {
    pid: child.pid,
    process: child,
    ready,
    ask: async <T>(type: string, body: Record<string, unknown> = {}): Promise<T> => await new Promise<T>((resolve, reject) => {
      const id = next++
      waiting.set(id, { resolve: resolve as (value: unknown) => void, reject })
      child.send({ ...body, id, type })
    }),
    stop: async () => {
      if (child.exitCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    }
  }
}
