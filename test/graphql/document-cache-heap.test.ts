import { parse } from 'graphql'
import { describe, it } from 'vitest'
import { treeBytes } from '../../src/graphql/document.js'
import { estimateOverHeap, expectWithin } from '../helpers/heap.js'

/**
 * The document cache's estimate of what a kept document takes (src/graphql/document.ts, treeBytes)
 * against the heap its syntax tree holds: at least it, at most three times it, for typical texts and
 * the densest. In a process of its own (vitest.config.ts), so that the heap measured is this file's.
 */

const STATUS = 'subscription { datasetStatusChanged(datasetId: "7c4e9b13-5f66-11f1-b3a9-fa39f6ed1f22") { id status progress } }'
/** Documents of each kind: the small ones by the thousand, so that each kind holds megabytes (a few hundred kilobytes would be lost in the heap's own movements). */
const COUNTS: Record<string, number> = { subscription: 1000, 'task page': 400 }

describe('DocumentCache', () => {
  it('estimates at least the heap a kept document takes, and at most three times it, for typical and the densest texts', async () => {
    const kinds: Record<string, (i: number) => string> = {
      subscription: (i) => `${STATUS.replace('subscription', `subscription S${i}`)}`,
      'task page': (i) => `query P${i} ($page: Int!, $size: Int!) { tasks(page: $page, pageSize: $size, orderBy: { field: START_TIME, direction: DESC }) { totalCount nodes { id type status progress startTime dataset { id displayName status } } } }`,
      // One field named again and again: the most nodes and tokens a character can make.
      dense: (i) => `{ d${i}: datasets { ${'id '.repeat(450)}} }`,
      aliases: (i) => `{ d${i}: datasets { ${Array.from({ length: 300 }, (_, k) => `a${k}: id`).join(' ')} } }`,
      arguments: (i) => `{ d${i}: dataset(id: "${i}") { ${Array.from({ length: 100 }, (_, k) => `t${k}: tasks(page: ${k + 1}, pageSize: 5) { totalCount }`).join(' ')} } }`
    }
    const ratios = await estimateOverHeap(kinds, (name) => COUNTS[name] ?? 100, (texts) => {
      const documents = texts.map((text) => parse(text))
      // The text is in the estimate too, and was made before the first figure: counted apart.
      return { held: documents, estimate: texts.reduce((sum, text, i) => sum + treeBytes(text, documents[i]!) - text.length * 2, 0) }
    })
    expectWithin(ratios, 1, 3)
  })
})
