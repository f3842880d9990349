import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, extname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

/*
 * Every relative link of the README, ARCHITECTURE.md and docs/ leads somewhere: to a file or folder of
 * the repository and, with a #fragment, to a heading of that page, named as GitHub names it. A page
 * moved or a heading renamed fails here instead of on a reader.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')

function markdownUnder (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return markdownUnder(path)
    return entry.name.endsWith('.md') ? [path] : []
  })
}

const PAGES = [join(ROOT, 'README.md'), join(ROOT, 'ARCHITECTURE.md'), ...markdownUnder(join(ROOT, 'docs'))]

/** The page's lines outside fenced code blocks (``` or ~~~), where links and headings mean something. */
function proseLines (text: string): string[] {
  const lines: string[] = []
  let fence: { char: string, length: number } | null = null
  for (const line of text.split('\n')) {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1]
    if (fence === null && marker !== undefined) {
      fence = { char: marker.charAt(0), length: marker.length }
    } else if (fence !== null) {
      if (marker !== undefined && marker.charAt(0) === fence.char && marker.length >= fence.length && line.trim() === marker) fence = null
    } else {
      lines.push(line)
    }
  }
  return lines
}

/** A heading's anchor as GitHub makes it (github-slugger): the text as rendered, lower case, punctuation dropped, spaces as dashes. */
function slugOf (heading: string): string {
  const rendered = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/<[^>]+>/g, '')
  return rendered.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-')
}

/** The anchors of a page's headings, repeated ones numbered as GitHub numbers them (`-1`, `-2`). */
function anchorsOf (text: string): Set<string> {
  const anchors = new Set<string>()
  const seen = new Map<string, number>()
  for (const line of proseLines(text)) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line)?.[1]
    if (heading === undefined) continue
    const slug = slugOf(heading)
    const times = seen.get(slug) ?? 0
    seen.set(slug, times + 1)
    anchors.add(times === 0 ? slug : `${slug}-${times}`)
  }
  return anchors
}

/** The targets of a page's inline links and images, code spans left out. */
function linksOf (text: string): string[] {
  return proseLines(text).flatMap((line) => {
    const outsideCode = line.replace(/(`+)[^`]*?\1/g, '')
    return [...outsideCode.matchAll(/!?\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*<?([^\s)>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((match) => match[1] as string)
  })
}

function brokenLinks (page: string): string[] {
  const text = readFileSync(page, 'utf8')
  const from = relative(ROOT, page)
  return linksOf(text).flatMap((target) => {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return []
    const [path = '', fragment] = target.split('#', 2)
    const file = path === '' ? page : resolve(dirname(page), decodeURIComponent(path))
    if (!existsSync(file)) return [`${from}: ${target} (no such file)`]
    if (fragment === undefined) return []
    if (statSync(file).isDirectory() || extname(file) !== '.md') return [`${from}: ${target} (an anchor on a page that is not Markdown)`]
    return anchorsOf(readFileSync(file, 'utf8')).has(decodeURIComponent(fragment)) ? [] : [`${from}: ${target} (no such heading)`]
  })
}

describe('links of the documentation', () => {
  it('reads the README, ARCHITECTURE.md and every page under docs/', () => {
    expect(PAGES.map((page) => relative(ROOT, page))).toEqual(expect.arrayContaining(['README.md', 'ARCHITECTURE.md', 'docs/configuration.md']))
  })

  it('finds GitHub\'s anchors and the links outside code', () => {
    expect([...anchorsOf('# Intro\n## The hostile-input suite (`test/hostile/`)\n```\n# not a heading\n```\n## Intro\n## GraphQL over HTTP')]).toEqual([
      'intro', 'the-hostile-input-suite-testhostile', 'intro-1', 'graphql-over-http'
    ])
    expect(linksOf('See [a](a.md#b), ![c](c.svg "t") and `[d](d.md)`.\n```\n[e](e.md)\n```\n[f](https://example.com)')).toEqual(['a.md#b', 'c.svg', 'https://example.com'])
  })

  it('each lead to an existing file, and each #anchor to a heading of its page', () => {
    expect(PAGES.flatMap(brokenLinks)).toEqual([])
  })
})
