import { existsSync, readdirSync } from 'node:fs'
import { expect, it } from 'vitest'
import type { HostileCase } from './harness/case.js'
import { ATTACKS, DOORS, NOT_APPLICABLE, type Attack, type Door } from './harness/matrix.js'
import type { HostileSuite } from './harness/suite.js'

/*
 * The matrix of doors × attack classes (harness/matrix.ts) against the cases of every suite
 * (suites/*.ts): each cell has a case, or a reason why it cannot apply, never both, never neither.
 * A door added to DOORS without its cases fails here, listing what it lacks.
 */

const SUITES = new URL('./suites/', import.meta.url)

async function allSuites (): Promise<Array<{ file: string, suite: HostileSuite }>> {
  const files = readdirSync(SUITES).filter((file) => file.endsWith('.ts')).sort()
  return await Promise.all(files.map(async (file) => {
    const module = await import(new URL(file, SUITES).href) as { suite?: HostileSuite }
    if (module.suite === undefined) throw new Error(`test/hostile/suites/${file} exports no suite: helpers belong in test/hostile/harness/`)
    return { file, suite: module.suite }
  }))
}

it('every suite runs: each suites/<name>.ts has its test/hostile/<name>.test.ts, and names its report after it', async () => {
  const suites = await allSuites()
  expect(suites.length).toBeGreaterThan(0)
  const missing = suites.filter(({ file }) => !existsSync(new URL(`../${file.replace(/\.ts$/, '.test.ts')}`, SUITES)))
  expect(missing.map(({ file }) => file), 'suites no test file runs').toEqual([])
  expect(suites.filter(({ file, suite }) => `${suite.name}.ts` !== file).map(({ file }) => file), 'suites named other than their file').toEqual([])
})

it('every door × attack cell has a case, or a reason it cannot apply', async () => {
  const cases: HostileCase[] = (await allSuites()).flatMap(({ suite }) => [...suite.cases])
  const doors = Object.keys(DOORS) as Door[]
  const attacks = Object.keys(ATTACKS) as Attack[]
  const covered = new Set(cases.map((spec) => `${spec.door} × ${spec.attack}`))

  const missing: string[] = []
  const both: string[] = []
  for (const door of doors) {
    for (const attack of attacks) {
      const cell = `${door} × ${attack}`
      const reason = NOT_APPLICABLE[door][attack]
      if (reason !== undefined && reason.trim().length < 20) missing.push(`${cell} (its reason says too little: "${reason}")`)
      if (reason === undefined && !covered.has(cell)) missing.push(cell)
      if (reason !== undefined && covered.has(cell)) both.push(cell)
    }
  }
  expect(missing, `cells with neither a case in test/hostile/suites/ nor an entry "not applicable: <reason>" in test/hostile/harness/matrix.ts:\n  ${missing.join('\n  ')}`).toEqual([])
  expect(both, 'cells with a case and a reason it cannot apply').toEqual([])
  // Cases name the doors and classes of the matrix (the types say so too; data from elsewhere might not).
  expect(cases.filter((spec) => !doors.includes(spec.door) || !attacks.includes(spec.attack)).map((spec) => spec.name)).toEqual([])
})

it('names every case once, so that a failure says which', async () => {
  const names = (await allSuites()).flatMap(({ suite }) => suite.cases.map((spec) => `${suite.name}: ${spec.door} × ${spec.attack}: ${spec.name}`))
  expect(names.filter((name, i) => names.indexOf(name) !== i)).toEqual([])
})
