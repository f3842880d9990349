import { LRUCache } from 'lru-cache'
import type { Checked } from './checked.js'
import type { UpstreamModel } from './schemas.js'

/*
 * Model lists change only when Visual Layer ships models: one is reused for a while, per credential
 * scope and dataset. A list answered from here sends nothing and takes nothing from a call budget.
 */

export class ModelCache {
  private readonly lists: LRUCache<string, Array<Checked<UpstreamModel>>>

  constructor (ttlMs: number, max = 10_000) {
    this.lists = new LRUCache({ max, ttl: ttlMs })
  }

  get (scope: string, datasetId: string): Array<Checked<UpstreamModel>> | undefined {
    return this.lists.get(`${scope} ${datasetId}`)
  }

  set (scope: string, datasetId: string, models: Array<Checked<UpstreamModel>>): void {
    this.lists.set(`${scope} ${datasetId}`, models)
  }
}
