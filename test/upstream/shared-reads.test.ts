import { describe, expect, it } from 'vitest'
import type { Answer, Credential, Dispatch, Resource } from '../../src/upstream/exchange.js'
import { SharedReads } from '../../src/upstream/layers/shared-reads.js'

const service: Credential = { kind: 'service' }
const caller: Credential = { kind: 'bearer', token: 't', subject: 'key-2', fingerprint: 'f2', expiresAt: Number.MAX_SAFE_INTEGER }

/** The layer over a `next` that holds every call until `settle()`, numbering what it sends. */
function harness (): { sent: string[], settle: () => void, reads: SharedReads, read: (path: string, resource: Resource, credential?: Credential | null) => Promise<Answer> } {
  const sent: string[] = []
  const held: Array<() => void> = []
  const next: Dispatch = async ({ request }) => {
    sent.push(request.path)
    const number = sent.length
    await new Promise<void>((resolve) => { held.push(resolve) })
    return { status: 200, body: `${request.path} #${number}`, token: null, retryAfter: undefined }
  }
  const reads = new SharedReads((credential) => credential.kind === 'bearer' ? `token:${credential.fingerprint}` : credential.kind)
  const dispatch = reads.layer(next)
  const read = (path: string, resource: Resource, credential: Credential | null = service): Promise<Answer> =>
    dispatch({ request: { method: 'GET', path, endpoint: path, what: path, resource }, call: { credential }, failed: { method: 'GET', what: path, credential: credential?.kind ?? 'service' } })
  return { sent, settle: () => { for (const resolve of held.splice(0)) resolve() }, reads, read }
}

describe('reads shared in flight', () => {
  it('after a write, forgets the reads of the datasets it touched and every list, by resource and in its scope only', async () => {
    const { sent, settle, reads, read } = harness()
    const all = (): Array<Promise<Answer>> => [
      read('/api/v1/dataset/abc', { kind: 'dataset', datasetId: 'abc' }),
      // An id that starts with a touched one is another dataset: its read stays shared.
      read('/api/v1/dataset/abcdef', { kind: 'dataset', datasetId: 'abcdef' }),
      read('/api/v1/enrichment/abc/list_models', { kind: 'models', datasetId: 'abc' }),
      read('/api/v1/datasets', { kind: 'dataset-list' }),
      read('/api/v1/tasks', { kind: 'task-list' }),
      read('/api/v1/tasks/filters', { kind: 'task-filters' }),
      read('/api/v1/healthcheck', { kind: 'health' }, null),
      read('/api/v1/dataset/abc', { kind: 'dataset', datasetId: 'abc' }, caller)
    ]
    const before = all()
    expect(sent.length).toBe(8)
    expect(reads.size).toBe(8)
    reads.forget('service', ['abc'])
    expect(reads.size).toBe(3)
    const after = all()
    expect(sent.slice(8)).toEqual([
      '/api/v1/dataset/abc',
      '/api/v1/enrichment/abc/list_models',
      '/api/v1/datasets',
      '/api/v1/tasks',
      '/api/v1/tasks/filters'
    ])
    settle()
    // Who waited before the write keeps the read made before it; who came after gets the new one.
    expect((await Promise.all(before)).map((answer) => answer.body)).toEqual([
      '/api/v1/dataset/abc #1', '/api/v1/dataset/abcdef #2', '/api/v1/enrichment/abc/list_models #3', '/api/v1/datasets #4',
      '/api/v1/tasks #5', '/api/v1/tasks/filters #6', '/api/v1/healthcheck #7', '/api/v1/dataset/abc #8'
    ])
    expect((await Promise.all(after)).map((answer) => answer.body)).toEqual([
      '/api/v1/dataset/abc #9', '/api/v1/dataset/abcdef #2', '/api/v1/enrichment/abc/list_models #10', '/api/v1/datasets #11',
      '/api/v1/tasks #12', '/api/v1/tasks/filters #13', '/api/v1/healthcheck #7', '/api/v1/dataset/abc #8'
    ])
    expect(reads.size).toBe(0)
  })

  it('shares a read between identical requests of one scope only', async () => {
    const { sent, settle, reads, read } = harness()
    const dataset: Resource = { kind: 'dataset', datasetId: 'abc' }
    const answers = [read('/api/v1/dataset/abc', dataset), read('/api/v1/dataset/abc', dataset), read('/api/v1/dataset/abc', dataset, caller)]
    expect(sent).toEqual(['/api/v1/dataset/abc', '/api/v1/dataset/abc'])
    expect(reads.size).toBe(2)
    settle()
    expect((await Promise.all(answers)).map((answer) => answer.body)).toEqual(['/api/v1/dataset/abc #1', '/api/v1/dataset/abc #1', '/api/v1/dataset/abc #2'])
    expect(reads.size).toBe(0)
  })
})
