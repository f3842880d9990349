import { readFileSync } from 'node:fs'
import semver from 'semver'
import { describe, expect, it } from 'vitest'

/*
 * The Node.js versions the project supports (package.json's `engines`, `.nvmrc`, the Docker image,
 * `@types/node`) agree with each other and with what every locked package asks for: a dependency moved
 * to a release that needs a newer Node.js fails here rather than on a user's Node.js 22.
 */

const file = (path: string): string => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8')

interface Manifest { engines: { node: string } }
interface Lock { packages: Record<string, { version?: string, engines?: { node?: string } | string[] }> }

const engines = (JSON.parse(file('package.json')) as Manifest).engines.node
const lock = JSON.parse(file('package-lock.json')) as Lock
/** The oldest release of each supported line, from the alternatives of `engines` ('^22.19.0 || >=24.0.0'). */
const floors = engines.split('||').map((range) => semver.minVersion(range.trim())?.version ?? range)

describe('supported Node.js versions', () => {
  it('are Node.js 22 and 24, nothing older', () => {
    expect(floors.map((version) => semver.major(version))).toEqual([22, 24])
    expect(semver.satisfies('22.0.0', engines)).toBe(false)
    expect(semver.satisfies('20.19.0', engines)).toBe(false)
  })

  it('satisfy every locked package\'s engines, from the oldest release of each line', () => {
    const refused = Object.entries(lock.packages).flatMap(([path, entry]) => {
      const wanted = Array.isArray(entry.engines) ? undefined : entry.engines?.node
      if (path === '' || wanted === undefined) return []
      return floors.filter((floor) => !semver.satisfies(floor, wanted)).map((floor) => `${path}@${entry.version ?? '?'} wants ${wanted}, not ${floor}`)
    })
    expect(refused).toEqual([])
  })

  it('are what .nvmrc, the Docker image and @types/node say', () => {
    const nvmrc = file('.nvmrc').trim()
    expect(semver.satisfies(`${nvmrc}.0.0`, engines)).toBe(true)
    expect([...file('Dockerfile').matchAll(/^FROM node:(\d+)/gm)].map(([, major]) => major)).toEqual([nvmrc, nvmrc])
    // The oldest supported line's types: an API only Node.js 24 has does not compile.
    expect(semver.major(lock.packages['node_modules/@types/node']?.version ?? '0.0.0')).toBe(semver.major(floors[0] ?? '0.0.0'))
  })
})
