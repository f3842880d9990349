import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { checkSchema, DEFAULT_SCHEMA } from '../../scripts/schema-check.mjs'

/**
 * scripts/schema-check.mjs, as .ci/run runs it, on copies of schema.graphql edited on purpose and
 * compared with schema.graphql itself as the published contract.
 */
const dir = mkdtempSync(join(tmpdir(), 'schema-check-'))
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })
const original = readFileSync(DEFAULT_SCHEMA, 'utf8')

async function check (edit: (schema: string) => string, contract = DEFAULT_SCHEMA): Promise<{ code: number, lines: string[] }> {
  const edited = edit(original)
  if (edit !== same) expect(edited).not.toBe(original) // the edit took
  const schema = join(dir, `schema-${Math.random().toString(36).slice(2)}.graphql`)
  writeFileSync(schema, edited)
  const lines: string[] = []
  const code = await checkSchema({ schema, contract, log: (line) => { lines.push(line) } })
  return { code, lines: lines.slice(1) } // after the line naming the two files
}
const same = (schema: string): string => schema
const replaceOnce = (schema: string, from: string, to: string): string => {
  expect(schema.split(from)).toHaveLength(2)
  return schema.replace(from, to)
}

describe('the schema check', () => {
  it('passes when nothing changed', async () => {
    expect(await check(same)).toEqual({ code: 0, lines: ['  no change'] })
  })

  it('fails on a removed field, listing what broke', async () => {
    const { code, lines } = await check((schema) => replaceOnce(schema, '  imageCount: Int!\n', ''))
    expect(code).toBe(1)
    expect(lines).toEqual([
      '1 breaking change:',
      "  - Field 'imageCount' was removed from object type 'Dataset' (Dataset.imageCount)",
      expect.stringMatching(/^ {6}Removing a field is a breaking change/),
      expect.stringMatching(/^schema check failed: clients of the published contract would break\. Deprecate first/)
    ])
  })

  it('passes on an added field, listed as safe', async () => {
    const { code, lines } = await check((schema) => replaceOnce(schema, 'type Query {\n', 'type Query {\n  gatewayVersion: String\n'))
    expect({ code, lines }).toEqual({ code: 0, lines: ['1 safe change:', "  - Field 'gatewayVersion' was added to object type 'Query' (Query.gatewayVersion)"] })
  })

  it('passes on an added enum value, listed as dangerous', async () => {
    const { code, lines } = await check((schema) => replaceOnce(schema, '  READY\n  ERROR\n  UNKNOWN\n}', '  READY\n  ERROR\n  UNKNOWN\n  ARCHIVED\n}'))
    expect(code).toBe(0)
    expect(lines[0]).toBe('1 dangerous change:')
    expect(lines[1]).toBe("  - Enum value 'ARCHIVED' was added to enum 'DatasetStatus' (DatasetStatus.ARCHIVED)")
    expect(lines).toHaveLength(3) // and the reason
  })

  it('fails, saying why, when the contract cannot be read', async () => {
    const missing = join(dir, 'no-such-contract.graphql')
    expect(await check(same, missing)).toEqual({ code: 1, lines: [] })
    const lines: string[] = []
    expect(await checkSchema({ contract: missing, log: (line) => { lines.push(line) } })).toBe(1)
    expect(lines).toEqual([`schema check: cannot read the published contract at ${missing}: ENOENT`])
  })

  it('exits non-zero from the command line on a breaking change, with the list on stdout', async () => {
    const schema = join(dir, 'cli-broken.graphql')
    writeFileSync(schema, replaceOnce(original, '  imageCount: Int!\n', ''))
    const run = promisify(execFile)('node', ['scripts/schema-check.mjs', '--schema', schema, '--contract', DEFAULT_SCHEMA])
    await expect(run).rejects.toMatchObject({ code: 1, stdout: expect.stringContaining("1 breaking change:\n  - Field 'imageCount' was removed from object type 'Dataset' (Dataset.imageCount)\n") })
    const fine = await promisify(execFile)('node', ['scripts/schema-check.mjs', '--schema', DEFAULT_SCHEMA, '--contract', DEFAULT_SCHEMA])
    expect(fine.stdout).toBe(`schema check: ${DEFAULT_SCHEMA} against the published contract ${DEFAULT_SCHEMA}\n  no change\n`)
  })
})
