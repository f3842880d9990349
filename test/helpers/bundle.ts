import { mkdirSync, rmSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'

/** Where bundles are written: inside the project (its node_modules resolve from there), and gitignored. */
const BUNDLES = fileURLToPath(new URL('../../test-results/bundles/', import.meta.url))

/**
 * An entry point (a path to a TypeScript file) and the sources it imports, bundled into one JavaScript
 * file, its packages left to node_modules as production loads them: a process started on it is ready
 * in well under a second, where a TypeScript loader compiling every import as it loads takes several
 * seconds of a core. Built from the sources as they are now (not from dist/, which may be older). Each
 * module keeps its own import.meta.url (schema.graphql and GraphiQL's assets are found relative to it).
 * Returns the file's path; remove it with removeBundle.
 */
export async function bundleEntry (entry: string): Promise<string> {
  mkdirSync(BUNDLES, { recursive: true })
  const outfile = join(BUNDLES, `${basename(entry, '.ts')}-${process.pid}-${Date.now()}.mjs`)
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    packages: 'external',
    sourcemap: 'inline',
    logLevel: 'warning',
    plugins: [{
      name: 'own-import-meta-url',
      setup (builder) {
        builder.onLoad({ filter: /\.ts$/ }, async (args) => ({
          contents: (await readFile(args.path, 'utf8')).replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)),
          loader: 'ts'
        }))
      }
    }]
  })
  return outfile
}

export function removeBundle (path: string): void {
  rmSync(path, { force: true })
}
