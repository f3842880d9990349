// Compares schema.graphql with the published contract (contract/schema.graphql, a snapshot kept in the
// repository and replaced deliberately when a release publishes the schema: `npm run schema:publish`),
// using @graphql-inspector/core's diff, as `.ci/run` does before the tests: a breaking change (a client
// of the published contract could fail) fails the check with the list of what broke; dangerous changes
// (valid, but a client may behave differently) and safe ones are printed.
//   node scripts/schema-check.mjs [--schema <path>] [--contract <path>]
// Evolving the schema: docs/development.md, "Evolving the schema" (deprecate first, remove after the published window).
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { CriticalityLevel, diff } from '@graphql-inspector/core'
import { buildSchema } from 'graphql'

const root = fileURLToPath(new URL('../', import.meta.url))
export const DEFAULT_SCHEMA = resolve(root, 'schema.graphql')
export const DEFAULT_CONTRACT = resolve(root, 'contract/schema.graphql')

async function loadSchema (what, path) {
  let text
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new Error(`schema check: cannot read ${what} at ${path}: ${error.code ?? error.message}`)
  }
  try {
    return buildSchema(text)
  } catch (error) {
    throw new Error(`schema check: ${what} at ${path} is not a valid schema: ${error.message}`)
  }
}

/** A change, and on a line of its own why it matters when the diff says. */
const describe = (change) => [`  - ${change.message}${change.path === undefined ? '' : ` (${change.path})`}`]
  .concat(change.criticality.reason === undefined ? [] : [`      ${change.criticality.reason}`])

/**
 * Diffs `schema` against the published `contract`; writes the report with `log` and returns the exit
 * code: 1 when something breaks (or a file cannot be read or built), else 0.
 */
export async function checkSchema ({ schema = DEFAULT_SCHEMA, contract = DEFAULT_CONTRACT, log = console.log } = {}) {
  let changes
  try {
    changes = await diff(await loadSchema('the published contract', contract), await loadSchema('schema.graphql', schema))
  } catch (error) {
    log(error.message)
    return 1
  }
  const of = (level) => changes.filter((change) => change.criticality.level === level)
  const breaking = of(CriticalityLevel.Breaking)
  const groups = [
    ['breaking', breaking],
    ['dangerous', of(CriticalityLevel.Dangerous)],
    ['safe', of(CriticalityLevel.NonBreaking)]
  ]
  log(`schema check: ${schema} against the published contract ${contract}`)
  if (changes.length === 0) log('  no change')
  for (const [name, list] of groups) {
    if (list.length === 0) continue
    log(`${list.length} ${name} change${list.length === 1 ? '' : 's'}:`)
    for (const change of list) describe(change).forEach((line) => log(line))
  }
  if (breaking.length > 0) {
    log('schema check failed: clients of the published contract would break. Deprecate first (@deprecated), remove after the published window (docs/development.md, "Evolving the schema").')
    return 1
  }
  return 0
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { schema: { type: 'string' }, contract: { type: 'string' } } })
  process.exitCode = await checkSchema({ schema: values.schema, contract: values.contract })
}
