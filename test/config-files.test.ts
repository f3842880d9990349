import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../src/config.js'

/*
 * Secrets from files (`<NAME>_FILE`), as container platforms mount them: read with the reader the entry
 * point gives (src/server.ts passes readFileSync; test/server.test.ts runs that), over real files here.
 */

const dir = mkdtempSync(join(tmpdir(), 'vlgw-secrets-'))
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })
const read = (path: string): string => readFileSync(path, 'utf8')

function file (name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

function problemsOf (env: Record<string, string>, reader: ((path: string) => string) | null = read): readonly string[] {
  try {
    loadConfig(env, reader ?? undefined)
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  throw new Error('expected a ConfigError')
}

const SECRET = 'a-jwt-secret-of-at-least-32-characters!'
const REMOTE = { VL_BASE_URL: 'https://vl.example.com', VL_API_KEY: 'key-1' }

describe('<NAME>_FILE variables', () => {
  it('read VL_API_KEY, VL_API_SECRET, JWT_SECRET, JWT_PUBLIC_KEY and REDIS_URL from their files, trailing newlines trimmed', () => {
    const pem = '-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----'
    const config = loadConfig({
      ...REMOTE,
      AUTH_MODE: 'jwt',
      VL_API_SECRET_FILE: file('vl-secret', 'vl-secret-value\n'),
      JWT_PUBLIC_KEY_FILE: file('key.pem', `${pem}\n`),
      REDIS_URL_FILE: file('redis-url', 'redis://:p%40ss@redis:6379/0\r\n')
    }, read)
    expect([config.upstream, config.jwt.publicKey, config.redis.url]).toEqual([
      { ...config.upstream, kind: 'remote', apiKey: 'key-1', apiSecret: 'vl-secret-value' }, pem, 'redis://:p%40ss@redis:6379/0'
    ])
    expect(loadConfig({ AUTH_MODE: 'jwt', JWT_SECRET_FILE: file('jwt-secret', `${SECRET}\n\n`) }, read).jwt.secret).toBe(SECRET)
    // The API key too, beside its secret.
    expect(loadConfig({ VL_BASE_URL: 'https://vl.example.com', VL_API_KEY_FILE: file('vl-key', 'key-from-file\n'), VL_API_SECRET: 's' }, read).upstream)
      .toMatchObject({ apiKey: 'key-from-file', apiSecret: 's' })
    // Only the trailing newlines go: spaces and inner newlines are the secret's.
    expect(loadConfig({ ...REMOTE, VL_API_SECRET_FILE: file('spaced', ' s p \n') }, read).upstream).toMatchObject({ apiSecret: ' s p ' })
  })

  it('refuses a variable set both ways, naming both, and reads no file for it', () => {
    const asked: string[] = []
    expect(problemsOf({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET, JWT_SECRET_FILE: file('unused', SECRET) }, (path) => { asked.push(path); return read(path) }))
      .toEqual(['JWT_SECRET/JWT_SECRET_FILE: both are set; set the value or the file that holds it, not both'])
    expect(asked).toEqual([])
  })

  it('names the variable, the path and why a file cannot be read, never its content', () => {
    const missing = join(dir, 'missing')
    const locked = file('locked', 'never-shown-secret')
    chmodSync(locked, 0o000)
    // root reads any file: there the locked one is read, and is no problem of its own.
    const root = process.getuid?.() === 0
    const problems = problemsOf({ ...REMOTE, VL_API_SECRET_FILE: missing, REDIS_URL_FILE: dir, JWT_SECRET_FILE: locked, AUTH_MODE: 'jwt' })
    expect(problems).toEqual([
      `VL_API_SECRET_FILE: could not read ${JSON.stringify(missing)} (no such file)`,
      ...(root ? [] : [`JWT_SECRET_FILE: could not read ${JSON.stringify(locked)} (permission denied)`]),
      `REDIS_URL_FILE: could not read ${JSON.stringify(dir)} (it is a directory)`
    ])
    expect(problems.join('\n')).not.toContain('never-shown-secret')
  })

  it('refuses an empty file, a value that fails its own check without echoing it, and _FILE without a reader', () => {
    expect(problemsOf({ AUTH_MODE: 'jwt', JWT_SECRET_FILE: file('empty', '\n') })).toEqual([
      `JWT_SECRET_FILE: ${JSON.stringify(join(dir, 'empty'))} is empty`
    ])
    // A secret read from a file is checked as the variable itself is, and not shown either.
    expect(problemsOf({ AUTH_MODE: 'jwt', JWT_SECRET_FILE: file('short', 'short-secret\n') })).toEqual(['JWT_SECRET: expected at least 32 characters'])
    const problems = problemsOf({ REDIS_URL_FILE: file('bad-redis', 'http://user:hunter2@redis\n') })
    expect(problems).toEqual(['REDIS_URL: expected a redis:// or rediss:// URL, e.g. redis://:password@redis:6379/0 (default: unset, all state in this process)'])
    expect(problemsOf({ REDIS_URL_FILE: file('redis', 'redis://redis:6379') }, null)).toEqual([
      'REDIS_URL_FILE: this program reads no files; set REDIS_URL itself'
    ])
  })
})
