import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { loadConfig, VARIABLE_NAMES } from '../src/config.js'

/*
 * .env.example cannot drift from src/config.ts: it names exactly the variables the gateway reads,
 * once each, and every default it shows is the default (uncommented, it changes nothing). The
 * configuration page (docs/configuration.md) names them all too.
 */

const lines = readFileSync(new URL('../.env.example', import.meta.url), 'utf8').split('\n')
const settings = lines.flatMap((line) => {
  const match = /^# ([A-Z][A-Z0-9_]*)=(.*)$/.exec(line)
  return match === null ? [] : [{ name: match[1] as string, value: match[2] as string }]
})

describe('.env.example', () => {
  it('lists every variable of the configuration exactly once, and no other', () => {
    const names = settings.map((setting) => setting.name)
    expect(new Set(names).size).toBe(names.length)
    expect([...names].sort()).toEqual([...VARIABLE_NAMES].sort())
  })

  it('shows the defaults: uncommenting every line with a value gives the configuration of an empty environment', () => {
    const shown = Object.fromEntries(settings.filter((setting) => setting.value !== '').map((setting) => [setting.name, setting.value]))
    expect(Object.keys(shown).length).toBeGreaterThan(40)
    expect(loadConfig(shown)).toEqual(loadConfig({}))
  })

  it('is all comments and blank lines, so that loading it as it is sets nothing', () => {
    expect(lines.filter((line) => line !== '' && !line.startsWith('#'))).toEqual([])
  })
})

describe('docs/configuration.md', () => {
  it('names every variable of the configuration, and only those besides the emulator\'s own', () => {
    const page = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8')
    const named = page.split('\n').filter((line) => line.startsWith('| `'))
      .flatMap((line) => [...(line.split(' | ')[0] ?? '').matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map(([, name]) => name as string))
    expect([...named].sort()).toEqual([...VARIABLE_NAMES, 'EMULATOR_PORT', 'EMULATOR_HOST'].sort())
  })
})
