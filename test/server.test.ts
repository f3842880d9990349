import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { bundleEntry, removeBundle } from './helpers/bundle.js'
import { freshToken, JWT_TEST_SECRET } from './helpers/modes.js'
import { when } from './helpers/wait.js'

const ENTRY = fileURLToPath(new URL('../src/server.ts', import.meta.url))
let bundle = ''
beforeAll(async () => { bundle = await bundleEntry(ENTRY) })
afterAll(() => { removeBundle(bundle) })

/**
 * The real entry point (src/server.ts, which `npm start` runs as dist/server.js), bundled from the
 * sources as they are now and run by plain Node.js as production runs it.
 */
function startServer (env: Record<string, string>): { child: ChildProcess, stdout: () => string, stderr: () => string, exited: Promise<number | null> } {
  const child = spawn(process.execPath, [bundle], {
    cwd: new URL('..', import.meta.url).pathname,
    // Load shedding off: a machine busy with other work delays this server's event loop past the 1 s
    // default right after it starts (it loads its modules), and these tests are of the entry point,
    // not of shedding (test/transports/load-shedding.test.ts).
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  let err = ''
  child.stdout?.on('data', (chunk: Buffer) => { out += chunk.toString() })
  child.stderr?.on('data', (chunk: Buffer) => { err += chunk.toString() })
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  return { child, stdout: () => out, stderr: () => err, exited }
}

/** Resolves with what `probe` finds in the server's output: looked at now and as each chunk of its output arrives. */
async function waitFor<T> (child: ChildProcess, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  let found = probe()
  await when('the server\'s output', (listener) => {
    child.stdout?.on('data', listener)
    child.stderr?.on('data', listener)
    return () => {
      child.stdout?.off('data', listener)
      child.stderr?.off('data', listener)
    }
  }, () => (found = probe()) !== undefined, timeoutMs)
  return found as T
}

/** Resolves with the first JSON log line, from now on, that `match` accepts. */
async function nextLogLine (child: ChildProcess, match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  return await new Promise((resolve) => {
    let pending = ''
    const onData = (chunk: Buffer): void => {
      pending += chunk.toString()
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      for (const text of lines) {
        if (!text.startsWith('{')) continue
        const line = JSON.parse(text) as Record<string, unknown>
        if (!match(line)) continue
        child.stdout?.off('data', onData)
        resolve(line)
        return
      }
    }
    child.stdout?.on('data', onData)
  })
}

/** One keep-alive connection: each POST of `body` to /graphql waits for its whole answer on the same socket. */
async function keepAlive (url: string): Promise<{ socket: Socket, post: (body: unknown) => Promise<{ status: number, body: unknown }> }> {
  const { port } = new URL(url)
  const socket = connect(Number(port), '127.0.0.1')
  await once(socket, 'connect')
  let received = ''
  let waiting: (() => void) | null = null
  socket.on('data', (chunk: Buffer) => { received += chunk.toString(); waiting?.() })
  const post = async (body: unknown): Promise<{ status: number, body: unknown }> => {
    const text = JSON.stringify(body)
    socket.write(`POST /graphql HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\n\r\n${text}`)
    for (;;) {
      const head = received.indexOf('\r\n\r\n')
      const length = head === -1 ? undefined : /content-length: (\d+)/i.exec(received.slice(0, head))?.[1]
      if (length !== undefined && Buffer.byteLength(received.slice(head + 4)) >= Number(length)) {
        const answer = { status: Number(received.slice(9, 12)), body: JSON.parse(received.slice(head + 4, head + 4 + Number(length))) as unknown }
        received = received.slice(head + 4 + Number(length))
        return answer
      }
      await new Promise<void>((resolve) => { waiting = resolve })
    }
  }
  return { socket, post }
}

const running: ChildProcess[] = []
afterEach(() => {
  for (const child of running.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
})

describe('src/server.ts', () => {
  it('refuses a bad configuration with exit code 1 and one message naming every bad variable', async () => {
    const server = startServer({ PORT: 'http', AUTH_MODE: 'open', VL_API_SECRET: 'super-secret-value' })
    running.push(server.child)
    expect(await server.exited).toBe(1)
    expect(server.stderr()).toBe([
      'Invalid configuration, the gateway did not start:',
      '  - PORT: expected an integer from 0 to 65535 (default 4000) (got "http")',
      '  - AUTH_MODE: expected one of none, passthrough, jwt (got "open")',
      ''
    ].join('\n'))
    expect(server.stdout()).toBe('')
  })

  it('reads a secret from the file its _FILE variable names, without its trailing newline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlgw-server-'))
    try {
      writeFileSync(join(dir, 'jwt-secret'), `${JWT_TEST_SECRET}\n`)
      const server = startServer({ PORT: '0', AUTH_MODE: 'jwt', JWT_SECRET_FILE: join(dir, 'jwt-secret') })
      running.push(server.child)
      const url = await waitFor(server.child, () => /"msg":"Server listening at (http:[^"]+)"/.exec(server.stdout())?.[1])
      // A token signed with the secret as written, newline left out, is accepted.
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${String(freshToken('jwt'))}` },
        body: JSON.stringify({ query: '{ __typename }' })
      })
      expect([res.status, await res.json()]).toEqual([200, { data: { __typename: 'Query' } }])
      server.child.kill('SIGTERM')
      expect(await server.exited).toBe(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('refuses an unreadable secret file with exit code 1, naming the variable and the path', async () => {
    const server = startServer({ AUTH_MODE: 'jwt', JWT_SECRET_FILE: '/nonexistent/jwt-secret' })
    running.push(server.child)
    expect(await server.exited).toBe(1)
    expect(server.stderr()).toBe([
      'Invalid configuration, the gateway did not start:',
      '  - JWT_SECRET_FILE: could not read "/nonexistent/jwt-secret" (no such file)',
      ''
    ].join('\n'))
  })

  it('refuses a trusted documents manifest it cannot read with the same kind of message and exit code 1', async () => {
    const server = startServer({ TRUSTED_DOCUMENTS: '/nonexistent/persisted-documents.json' })
    running.push(server.child)
    expect(await server.exited).toBe(1)
    expect(server.stderr()).toBe([
      'Invalid configuration, the gateway did not start:',
      '  - TRUSTED_DOCUMENTS: cannot read "/nonexistent/persisted-documents.json" (ENOENT): expected the path of a persisted documents manifest',
      ''
    ].join('\n'))
  })

  it('reloads the trusted documents manifest on SIGHUP, keeping its connections; a bad manifest is logged and the one in use kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlgw-manifest-'))
    const manifest = join(dir, 'persisted-documents.json')
    const id = (text: string): string => `sha256:${createHash('sha256').update(text).digest('hex')}`
    const first = 'query First { __typename }'
    const second = 'query Second { datasets { id } }'
    try {
      writeFileSync(manifest, JSON.stringify({ [id(first)]: first }))
      const server = startServer({ PORT: '0', LOG_LEVEL: 'info', TRUSTED_DOCUMENTS: manifest, TRUSTED_DOCUMENTS_ONLY: 'true' })
      running.push(server.child)
      const listening = await nextLogLine(server.child, (line) => String(line.msg).startsWith('Server listening at '))
      const connection = await keepAlive(String(listening.msg).slice('Server listening at '.length))
      expect(await connection.post({ documentId: id(first) })).toEqual({ status: 200, body: { data: { __typename: 'Query' } } })
      expect((await connection.post({ documentId: id(second) })).status).toBe(400)

      // A new manifest: the second document in, the first out.
      writeFileSync(manifest, JSON.stringify({ [id(second)]: second }))
      const reloaded = nextLogLine(server.child, (line) => line.component === 'trusted-documents')
      server.child.kill('SIGHUP')
      expect(await reloaded).toMatchObject({ level: 30, msg: 'trusted documents reloaded', path: manifest, documents: 1, before: 1, only: true })
      const answer = await connection.post({ documentId: id(second) }) as { status: number, body: { data: { datasets: unknown[] } } }
      expect([answer.status, answer.body.data.datasets.length]).toEqual([200, 10])
      expect(await connection.post({ documentId: id(first) })).toEqual({
        status: 400,
        body: {
          data: null,
          errors: [{
            message: `No trusted document has the id "${id(first)}": use the ids of the manifest this gateway loads (TRUSTED_DOCUMENTS).`,
            extensions: expect.objectContaining({ code: 'QUERY_REJECTED' }) as unknown
          }]
        }
      })

      // A manifest that is not JSON: logged, and the one in use kept.
      writeFileSync(manifest, '{"sha256:')
      const refused = nextLogLine(server.child, (line) => line.component === 'trusted-documents')
      server.child.kill('SIGHUP')
      const line = await refused
      expect([line.level, line.msg, line.documents, String(line.reason).startsWith(`TRUSTED_DOCUMENTS: ${JSON.stringify(manifest)} is not JSON (`)])
        .toEqual([50, 'trusted documents not reloaded: the manifest in use is kept', 1, true])
      expect((await connection.post({ documentId: id(second) })).status).toBe(200)
      connection.socket.destroy()
      server.child.kill('SIGTERM')
      expect(await server.exited).toBe(0)
      expect(server.stderr()).toBe('')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('starts on the embedded emulator, serves queries, and on SIGTERM finishes in-flight requests and exits 0', async () => {
    const server = startServer({ PORT: '0', LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_MS: '5000', RATE_LIMIT_PER_MIN: '5' })
    running.push(server.child)
    const lines = (): Array<Record<string, unknown>> => server.stdout().split('\n').slice(0, -1).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)
    const url = await waitFor(server.child, () => {
      const line = lines().find((l) => typeof l.msg === 'string' && l.msg.startsWith('Server listening at '))
      return line === undefined ? undefined : String(line.msg).slice('Server listening at '.length)
    })
    const embedded = lines().find((l) => l.emulator !== undefined)
    expect(embedded?.msg).toBe(`No VL_BASE_URL set: running on the embedded Visual Layer emulator at ${String(embedded?.emulator)} as the demo account "Acme Vision"`)
    expect(lines().some((l) => l.level === 40 && String(l.msg).startsWith('AUTH_MODE=none'))).toBe(true)
    // A setting misspelt is ignored, and said so with the one it most likely meant.
    expect(lines().filter((l) => l.variable !== undefined).map((l) => [l.level, l.msg])).toEqual([
      [40, 'RATE_LIMIT_PER_MIN is not a setting of this gateway and is ignored: did you mean RATE_LIMIT_PER_MINUTE?']
    ])

    // A slow upstream answer keeps one request in flight while the signal arrives.
    const fault = await fetch(`${String(embedded?.emulator)}/_emulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ path: '/api/v1/datasets', delayMs: 1000 })
    })
    expect(fault.status).toBeLessThan(300)
    const inFlight = fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ datasets { id } }' })
    })
    await waitFor(server.child, () => lines().some((l) => l.msg === 'incoming request') ? true : undefined)
    server.child.kill('SIGTERM')

    const res = await inFlight
    expect(res.status).toBe(200)
    const body = await res.json() as { data: { datasets: unknown[] } }
    expect(body.data.datasets).toHaveLength(10)
    expect(await server.exited).toBe(0)
    await expect(fetch(`${url}/health/live`)).rejects.toThrow()
    expect(server.stderr()).toBe('')
  })
})
