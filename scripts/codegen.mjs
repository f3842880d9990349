// Generates TypeScript types for schema.graphql (GraphQL types and resolver signatures).
// Uses @graphql-codegen/core directly: the CLI pulls in network loaders we do not need.
import { readFile, writeFile, mkdir } from 'node:fs/promises'
import { codegen } from '@graphql-codegen/core'
import * as typescript from '@graphql-codegen/typescript'
import * as typescriptResolvers from '@graphql-codegen/typescript-resolvers'
import { parse } from 'graphql'

const root = new URL('../', import.meta.url)
const out = new URL('src/graphql/generated/types.ts', root)
const sdl = await readFile(new URL('schema.graphql', root), 'utf8')

const output = await codegen({
  filename: out.pathname,
  schema: parse(sdl),
  documents: [],
  config: {
    useTypeImports: true,
    enumsAsTypes: true,
    avoidOptionals: { field: true, inputValue: false, object: false, defaultValue: false },
    scalars: { DateTime: 'string', ID: 'string' },
    contextType: '../context.js#GraphQLContext',
    mappers: {
      Dataset: '../parents.js#DatasetParent',
      Task: '../parents.js#TaskParent',
      EnrichmentContext: '../parents.js#EnrichmentContextParent',
      AppliedEnrichment: '../parents.js#AppliedEnrichmentParent'
    }
  },
  plugins: [{ typescript: {} }, { typescriptResolvers: {} }],
  pluginMap: { typescript, typescriptResolvers }
})

await mkdir(new URL('.', out), { recursive: true })
await writeFile(out, '/* eslint-disable */\n// Generated from schema.graphql by scripts/codegen.mjs. Do not edit.\n' + output)
