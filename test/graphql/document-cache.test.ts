import { parse, specifiedRules } from 'graphql'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { DocumentCache, readDocument, treeBytes, type DocumentLimits } from '../../src/graphql/document.js'
import { depthLimit, fieldLimit } from '../../src/graphql/limits.js'
import { buildSchema } from '../../src/graphql/schema.js'

/**
 * Valid documents are read once per text and share one syntax tree (10,000 subscriptions of one
 * operation keep one tree, not 10,000); refused ones and over-long texts are never kept.
 */

const schema = buildSchema()
const limitsWith = (cache: DocumentCache): DocumentLimits => ({ maxTokens: 3000, rules: [depthLimit(10), fieldLimit(500)], cache })
const STATUS = 'subscription { datasetStatusChanged(datasetId: "7c4e9b13-5f66-11f1-b3a9-fa39f6ed1f22") { id status progress } }'

describe('DocumentCache', () => {
  it('gives every reader of one text the same document, validated once against each set of rules', () => {
    const cache = new DocumentCache()
    const limits = limitsWith(cache)
    const first = readDocument(schema, STATUS, limits, specifiedRules)
    const second = readDocument(schema, STATUS, limits, specifiedRules)
    expect(first.errors).toBeUndefined()
    expect(second.document).toBe(first.document)
    // The limits alone (HTTP's pre-check) reuse it too.
    expect(readDocument(schema, STATUS, limits).document).toBe(first.document)
    expect(cache.size).toBe(1)
  })

  it('keeps no document that failed: the limits, graphql\'s rules or a syntax error', () => {
    const cache = new DocumentCache()
    const limits = limitsWith(cache)
    const refused = [
      '{ datasets { id ',
      '{ datasets { nope } }',
      `{ ${Array.from({ length: 501 }, (_, i) => `a${i}: datasets { id }`).join(' ')} }`
    ]
    for (const text of refused) {
      expect(readDocument(schema, text, limits, specifiedRules).errors?.length).toBeGreaterThan(0)
      // Asked again, it is refused again, not served from memory.
      expect(readDocument(schema, text, limits, specifiedRules).errors?.length).toBeGreaterThan(0)
    }
    expect(cache.size).toBe(0)
  })

  it('keeps a text that passed the limits but failed graphql\'s rules only for the limits', () => {
    const cache = new DocumentCache()
    const limits = limitsWith(cache)
    const unknownField = '{ datasets { nope } }'
    // The limits pass (read without rules); graphql's rules report the unknown field.
    expect(readDocument(schema, unknownField, limits).errors).toBeUndefined()
    expect(readDocument(schema, unknownField, limits, specifiedRules).errors?.map((e) => e.message)).toEqual(['Cannot query field "nope" on type "Dataset".'])
  })

  it('bounds what it keeps by bytes: texts over 16 KB are not kept, and many texts evict the oldest', () => {
    const cache = new DocumentCache(1024 * 1024)
    const limits = limitsWith(cache)
    const padded = `${STATUS} ${'#'.repeat(17 * 1024)}`
    expect(readDocument(schema, padded, limits, specifiedRules).errors).toBeUndefined()
    expect(cache.size).toBe(0)
    const text = (i: number): string => `${STATUS} # ${String(i).padStart(40, '0')}`
    for (let i = 0; i < 1000; i++) readDocument(schema, text(i), limits, specifiedRules)
    // 15 tokens and 154 characters each (the comment is no token): 9,308 bytes, 112 of them in 1 MiB.
    const each = treeBytes(text(0), parse(text(0)))
    expect(each).toBe(15 * 600 + 154 * 2)
    expect(cache.size).toBe(Math.floor(1024 * 1024 / each))
    expect(cache.bytes).toBe(cache.size * each)
    // The newest are kept, the oldest went first.
    expect(cache.get(text(999), specifiedRules)?.passedRules).toBe(true)
    expect(cache.get(text(999 - cache.size), specifiedRules)).toBeUndefined()
  })

  it('estimates at least the heap a kept document takes, and at most three times it, for typical and the densest texts', () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
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
      const texts = Array.from({ length: 200 }, (_, i) => make(i))
      kept.push(texts)
      gc()
      gc()
      const before = process.memoryUsage().heapUsed
      // Synchronous from here to the second figure: nothing else runs in this process between them.
      const documents = texts.map((text) => parse(text))
      kept.push(documents)
      gc()
      gc()
      const heap = process.memoryUsage().heapUsed - before
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
