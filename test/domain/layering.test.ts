import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// The domain is below every door: it may import only itself, the upstream client, the contract's
// types and the cross-cutting leaves, and no GraphQL, Fastify or loader library.
const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src')
const ALLOWED_PLACES = ['domain/', 'upstream/', 'contract/', 'errors.ts', 'config.ts']
// Webhooks (src/domain/webhooks/) sign with the Standard Webhooks library and send with undici, as the upstream client does.
const ALLOWED_PACKAGES = ['lru-cache', 'standardwebhooks', 'undici']

function sources (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sources(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

function importsOf (file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/^(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm)].map((match) => match[1] ?? '')
}

describe('the domain layer', () => {
  it('imports only from the domain, the upstream client, the contract, errors and config', () => {
    const files = sources(join(SRC, 'domain'))
    expect(files.length).toBeGreaterThan(10)
    const refused = files.flatMap((file) => importsOf(file)
      .filter((spec) => {
        if (spec.startsWith('node:')) return false
        if (!spec.startsWith('.')) return !ALLOWED_PACKAGES.includes(spec)
        const place = relative(SRC, resolve(dirname(file), spec)).replace(/\.js$/, '.ts')
        return !ALLOWED_PLACES.some((allowed) => place === allowed || place.startsWith(allowed))
      })
      .map((spec) => `${relative(SRC, file)} imports ${spec}`))
    expect(refused).toEqual([])
  })
})
