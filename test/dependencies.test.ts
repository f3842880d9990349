import { readdirSync, readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { join } from 'node:path'
import { expect, it } from 'vitest'

/*
 * The image installs production dependencies alone (Dockerfile: `npm prune --omit=dev`), so every package
 * the gateway's code loads at run time must be in `dependencies`: one that only another package brought
 * along (as `ws` came with Mercurius) disappears the day that package goes. Type-only imports are erased by
 * the compiler; the GraphiQL page (src/transports/graphiql/browser/) is bundled when the project builds.
 */

const BROWSER = join('src', 'transports', 'graphiql', 'browser')

function sources (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return path === BROWSER ? [] : sources(path)
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : []
  })
}

/** The packages a file loads at run time: `import ... from`, `export ... from` and `import()`, not `import type`. */
function packagesOf (text: string): string[] {
  const specifiers = [
    ...[...text.matchAll(/^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?'([^']+)'/gm)].map((match) => match[1] as string),
    ...[...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)].map((match) => match[1] as string)
  ]
  return specifiers
    .filter((specifier) => !specifier.startsWith('.') && !specifier.startsWith('node:') && !builtinModules.includes(specifier))
    .map((specifier) => specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0] as string)
}

it('every package src/ loads at run time is a production dependency', () => {
  const { dependencies } = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> }
  const missing = new Set<string>()
  const loaded = new Set<string>()
  for (const file of sources('src')) {
    for (const name of packagesOf(readFileSync(file, 'utf8'))) {
      loaded.add(name)
      if (dependencies[name] === undefined) missing.add(`${name} (${file})`)
    }
  }
  expect(loaded.has('ws') && loaded.has('fastify')).toBe(true)
  expect([...missing].sort()).toEqual([])
})
