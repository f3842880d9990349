import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bundleEntry, removeBundle } from '../helpers/bundle.js'
import { when } from '../helpers/wait.js'

const serverPath = fileURLToPath(new URL('../../src/emulator/server.ts', import.meta.url))

let bundle = ''
beforeAll(async () => { bundle = await bundleEntry(serverPath) })
afterAll(() => { removeBundle(bundle) })

/** Runs the standalone entry, bundled from the sources as they are now (the build output is not needed for the test). */
function runServer (env: Record<string, string>) {
  const child = spawn(process.execPath, [bundle], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  return { child, exited, output: () => ({ stdout, stderr }) }
}

describe('standalone server (npm run emulator)', () => {
  it('exits 1 naming EMULATOR_PORT when it is not a port', async () => {
    for (const port of ['abc', '70000', '-1']) {
      const server = runServer({ EMULATOR_PORT: port })
      const [code] = await server.exited
      expect(code).toBe(1)
      expect(server.output().stderr).toContain(`EMULATOR_PORT must be a port number from 0 to 65535 (got "${port}")`)
    }
  })

  it('logs one line with its URL and the demo keys, serves, and closes on SIGTERM', async () => {
    const server = runServer({ EMULATOR_PORT: '0', EMULATOR_HOST: '127.0.0.1' })
    const listening = (): string | undefined => server.output().stdout.split('\n').slice(0, -1).find((entry) => entry.includes('Visual Layer emulator listening at'))
    // Looked for in its output as each chunk arrives.
    await when('the emulator\'s line saying where it listens', (listener) => {
      server.child.stdout.on('data', listener)
      return () => { server.child.stdout.off('data', listener) }
    }, () => listening() !== undefined)
    const url = (JSON.parse(listening() ?? '{}') as { url?: string }).url
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const line = server.output().stdout.split('\n').find((entry) => entry.includes('Visual Layer emulator listening at')) ?? ''
    expect(line).toContain('vl-demo-acme-key')
    expect(line).toContain('vl-demo-globex-key')
    const health = await fetch(`${url}/api/v1/healthcheck`)
    expect(await health.json()).toEqual({ status: 'Green', 'service-health-message': 'none', version: '2.42.190' })
    server.child.kill('SIGTERM')
    const [code] = await server.exited
    expect(code).toBe(0)
  })
})
