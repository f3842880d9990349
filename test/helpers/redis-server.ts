import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'

/*
 * redis-server processes of the tests' own: one for the whole run (test/setup/redis.ts), and one per
 * test that stops or pauses Redis mid-run. Nothing uses the machine's 127.0.0.1:6379.
 */

export const REDIS_INSTALL_HINT = 'install it with `apt-get update && apt-get install -y redis-server`'

/** Whether the redis-server binary is on PATH. */
export function hasRedisServer (): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0
}

/** A free TCP port on the loopback interface (for a server the test starts itself). */
export async function freePort (): Promise<number> {
  const probe = createServer()
  probe.listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const address = probe.address()
  probe.close()
  await once(probe, 'close')
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

/**
 * A redis-server on `port` of 127.0.0.1, resolved once it says it accepts connections (its own log
 * line), or rejected with its output when it exits first or does not say so within `withinMs`.
 */
export async function startOwnRedis (port: number, withinMs = 10_000): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { fail(new Error(`redis-server on port ${port} did not accept connections within ${withinMs} ms:\n${output}`)) }, withinMs)
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      if (output.includes('Ready to accept connections')) done()
    }
    const onExit = (code: number | null): void => { fail(new Error(`redis-server on port ${port} exited (${String(code)}) before accepting connections:\n${output}`)) }
    const cleanUp = (): void => {
      clearTimeout(timer)
      child.stdout?.off('data', onData)
      child.off('exit', onExit)
    }
    function done (): void { cleanUp(); resolve() }
    function fail (err: Error): void { cleanUp(); child.kill('SIGKILL'); reject(err) }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.once('exit', onExit)
  })
  // Its later output is not read: let it go rather than fill the pipe.
  child.stdout?.resume()
  child.stderr?.resume()
  return child
}

/** Kills a redis-server startOwnRedis started (at once, as a crash would), and waits for it to exit. */
export async function stopOwnRedis (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGKILL')
  await exited
}

/**
 * Stalls a redis-server startOwnRedis started (SIGSTOP: its sockets stay open, nothing answers) and resolves
 * once the kernel has stopped it. The signal takes effect when the process is next scheduled, which on a
 * busy machine can be after the test's next command reached it; Node has no event for a stopped child, so
 * its state is read from /proc (`T`) on each turn of the event loop, for at most `withinMs`.
 */
export async function stallOwnRedis (child: ChildProcess, withinMs = 5_000): Promise<void> {
  child.kill('SIGSTOP')
  const end = performance.now() + withinMs
  while (!/^\d+ \(.*\) T/.test(readFileSync(`/proc/${String(child.pid)}/stat`, 'utf8'))) {
    if (performance.now() > end) throw new Error(`redis-server ${String(child.pid)} not stopped within ${withinMs} ms of SIGSTOP`)
    await new Promise((resolve) => setImmediate(resolve))
  }
}
