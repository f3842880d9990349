import { parse, specifiedRules } from 'graphql'
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
})
