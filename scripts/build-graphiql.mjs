// Bundles the GraphiQL page (src/transports/graphiql/browser/) with esbuild into dist/graphiql/:
// the page's script and stylesheet, Monaco's three workers, the fonts the stylesheet names, and
// manifest.json, the list src/transports/graphiql/plugin.ts serves (and nothing else). Every name
// carries a hash of its content, so the files can be cached for good. Run by `npm run build`.
import { createHash } from 'node:crypto'
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('../', import.meta.url))
const target = fileURLToPath(new URL('../dist/graphiql', import.meta.url))
// Built beside the target, then swapped in with two renames: a gateway starting meanwhile finds the old bundle or the new one.
const outdir = `${target}.building-${process.pid}`
const started = performance.now()

const common = {
  absWorkingDir: root,
  outdir,
  bundle: true,
  minify: true,
  metafile: true,
  // The bundled packages' licence notices go to *.LEGAL.txt files beside the bundle (shipped in dist/, not served).
  legalComments: 'external',
  target: ['chrome120', 'edge120', 'firefox120', 'safari17'],
  define: { 'process.env.NODE_ENV': '"production"' },
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  logLevel: 'warning'
}

/** The output files of a build, by the entry point (or asset) they came from. */
function outputs (result) {
  return Object.entries(result.metafile.outputs).map(([file, output]) => ({ name: basename(file), entry: output.entryPoint, bytes: output.bytes }))
}

/** The packages the bundle is made of (and esbuild), whose installed versions the source hash covers. */
const BUNDLED = ['graphiql', '@graphiql/react', '@graphiql/plugin-explorer', '@graphiql/toolkit', 'react', 'react-dom', 'graphql', 'graphql-ws',
  'monaco-editor', 'monaco-graphql', 'esbuild']

/** A hash of what the bundle is made from (the page's sources, the bundled packages' versions): the tests refuse a stale bundle. */
export async function sourceHash () {
  const hash = createHash('sha256')
  const browser = new URL('../src/transports/graphiql/browser/', import.meta.url)
  for (const name of (await readdir(browser)).sort()) hash.update(name).update(await readFile(new URL(name, browser)))
  for (const name of BUNDLED) {
    const { version } = JSON.parse(await readFile(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8'))
    hash.update(`${name}@${version}`)
  }
  hash.update(await readFile(new URL('build-graphiql.mjs', import.meta.url)))
  return hash.digest('hex')
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundle()

async function bundle () {
  await rm(outdir, { recursive: true, force: true })

  const workers = outputs(await build({
    ...common,
    format: 'iife',
    entryPoints: {
      'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
      'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
      'graphql.worker': 'monaco-graphql/esm/graphql.worker.js'
    }
  }))
  const workerName = (stem) => {
    const found = workers.find((file) => file.name.startsWith(`${stem}-`) && file.name.endsWith('.js'))
    if (found === undefined) throw new Error(`build-graphiql: no output for the ${stem} worker`)
    return found.name
  }

  const page = outputs(await build({
    ...common,
    format: 'esm',
    jsx: 'automatic',
    entryPoints: { graphiql: 'src/transports/graphiql/browser/main.tsx' },
    loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file' },
    define: {
      ...common.define,
      __GRAPHIQL_WORKERS__: JSON.stringify(Object.fromEntries(['editor', 'json', 'graphql'].map((label) => [label, `./${workerName(`${label}.worker`)}`])))
    }
  }))

  const files = [...page, ...workers].filter((file) => !file.name.endsWith('.LEGAL.txt'))
  const script = page.find((file) => file.entry !== undefined && file.name.endsWith('.js'))
  const styles = page.filter((file) => file.name.endsWith('.css')).map((file) => file.name)
  if (script === undefined || styles.length === 0) throw new Error('build-graphiql: the page has no script or no stylesheet')
  const manifest = { script: script.name, styles, files: files.map((file) => file.name).sort(), sourceHash: await sourceHash() }
  await writeFile(`${outdir}/manifest.json`, JSON.stringify(manifest, null, 2) + '\n')
  const old = `${target}.old-${process.pid}`
  await rename(target, old).catch((error) => { if (error.code !== 'ENOENT') throw error })
  await rename(outdir, target)
  await rm(old, { recursive: true, force: true })

  const total = files.reduce((sum, file) => sum + file.bytes, 0)
  const kib = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`
  console.log(`GraphiQL bundled into dist/graphiql/ in ${((performance.now() - started) / 1000).toFixed(1)} s: ${files.length} files, ${kib(total)} ` +
  `(page script ${kib(script.bytes)}, workers ${kib(workers.reduce((sum, file) => sum + file.bytes, 0))})`)
}
