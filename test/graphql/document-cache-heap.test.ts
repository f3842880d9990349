import { parse } from 'graphql'
import { describe, expect, it } from 'vitest'
import { treeBytes } from '../../src/graphql/document.js'
import { settledHeap } from '../helpers/heap.js'

/**
 * The document cache's estimate of what a kept document takes (src/graphql/document.ts, treeBytes)
 * against the heap its syntax tree holds: at least it, at most three times it, for typical texts and
 * the densest. In a process of its own (vitest.config.ts), so that the heap measured is this file's.
 */

const STATUS = 'subscription { datasetStatusChanged(datasetId: "7c4e9b13-5f66-11f1-b3a9-fa39f6ed1f22") { id status progress } }'
/** Documents of each kind: the small ones by the thousand, so that each kind holds megabytes. */
const COUNTS: Record<string, number> = { subscription: 1000, 'task page': 400 }

describe('DocumentCache', () => {
  it('estimates at least the heap a kept document takes, and at most three times it, for typical and the densest texts', () => {
    const kinds: Record<string, (i: number) => string> = {
      subscription: (i) => `${STATUS.replace('subscription', `subscription S${i}`)}`,
      'task page': (i) => `query P${i} ($page: Int!, $size: Int!) { tasks(page: $page, pageSize: $size, orderBy: { field: START_TIME, direction: DESC }) { totalCount nodes { id type status progress startTime dataset { id displayName status } } } }`,
      // One field named again and again: the most nodes and tokens a character can make.
      dense: (i) => `{ d${i}: datasets { ${'id '.repeat(450)}} }`,
      aliases: (i) => `{ d${i}: datasets { ${Array.from({ length: 300 }, (_, k) => `a${k}: id`).join(' ')} } }`,
      arguments: (i) => `{ d${i}: dataset(id: "${i}") { ${Array.from({ length: 100 }, (_, k) => `t${k}: tasks(page: ${k + 1}, pageSize: 5) { totalCount }`).join(' ')} } }`
    }
    // Everything made is kept until the end, so that no collection of one kind's garbage lands in another's figure.
    const kept: unknown[] = []
    const ratios: Record<string, number> = {}
    for (const [name, make] of Object.entries(kinds)) {
      // Enough of each for megabytes: a few hundred kilobytes would be lost in the heap's own movements.
      const texts = Array.from({ length: COUNTS[name] ?? 100 }, (_, i) => make(i))
      kept.push(texts)
      const before = settledHeap()
      // Synchronous from here to the second figure: nothing else runs in this process between them.
      const documents = texts.map((text) => parse(text))
      kept.push(documents)
      const heap = settledHeap() - before
      // The text is in the estimate too, and was made before the first figure: counted apart.
      const estimate = texts.reduce((sum, text, i) => sum + treeBytes(text, documents[i]!) - text.length * 2, 0)
      ratios[name] = Math.round(estimate / heap * 100) / 100
    }
    for (const [name, ratio] of Object.entries(ratios)) {
      expect(ratio, `${name}: estimate / heap ${ratio} (${JSON.stringify(ratios)})`).toBeGreaterThanOrEqual(1)
      expect(ratio, `${name}: estimate / heap ${ratio} (${JSON.stringify(ratios)})`).toBeLessThanOrEqual(3)
    }
    expect(kept).toHaveLength(2 * Object.keys(kinds).length)
  })
})
