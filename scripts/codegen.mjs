// Generates TypeScript from schema.graphql, in two files with one direction between them:
// src/contract/types.ts, the contract's objects, enums and arguments (a leaf any layer may import),
// and src/graphql/generated/resolvers.ts, the resolver signatures, which import those types and the
// graph's own context and parent types (so the contract never imports the graph).
// Uses @graphql-codegen/core directly: the CLI pulls in network loaders we do not need.
import { readFile, writeFile, mkdir } from 'node:fs/promises'
import { codegen } from '@graphql-codegen/core'
import * as typescript from '@graphql-codegen/typescript'
import * as typescriptResolvers from '@graphql-codegen/typescript-resolvers'
import { parse } from 'graphql'

const root = new URL('../', import.meta.url)
const schema = parse(await readFile(new URL('schema.graphql', root), 'utf8'))
const header = '/* eslint-disable */\n// Generated from schema.graphql by scripts/codegen.mjs. Do not edit.\n'
const shared = {
  useTypeImports: true,
  enumsAsTypes: true,
  avoidOptionals: { field: true, inputValue: false, object: false, defaultValue: false },
  scalars: { DateTime: 'string', ID: 'string' }
}

async function generate (path, config, plugins, prefix = '') {
  const out = new URL(path, root)
  const output = await codegen({
    filename: out.pathname,
    schema,
    documents: [],
    config: { ...shared, ...config },
    plugins,
    pluginMap: { typescript, typescriptResolvers }
  })
  await mkdir(new URL('.', out), { recursive: true })
  await writeFile(out, header + prefix + output)
}

await generate('src/contract/types.ts', {}, [{ typescript: {} }])
await generate('src/graphql/generated/resolvers.ts', {
  namespacedImportName: 'Types',
  contextType: '../context.js#GraphQLContext',
  mappers: {
    Dataset: '../../domain/parents.js#DatasetParent',
    Task: '../../domain/parents.js#TaskParent',
    EnrichmentContext: '../../domain/parents.js#EnrichmentContextParent',
    AppliedEnrichment: '../../domain/parents.js#AppliedEnrichmentParent'
  }
}, [{ typescriptResolvers: {} }], "import type * as Types from '../../contract/types.js';\n")
