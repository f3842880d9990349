import DataLoader from 'dataloader'
import type { Readers } from '../domain/context.js'
import { isGatewayError, type GatewayError } from '../errors.js'
import type { Checked } from '../upstream/checked.js'
import type { CallOptions, TaskListParams, VisualLayerClient } from '../upstream/client.js'
import { failsTheOperation } from '../upstream/errors.js'
import type { UpstreamCreationStatus, UpstreamDataset, UpstreamEnrichmentContext, UpstreamModel, UpstreamTaskPage } from '../upstream/schemas.js'

/**
 * Per-request loaders: within one GraphQL request each upstream read happens at most once.
 * Visual Layer has no batch endpoints, so a batch becomes parallel GETs. They are the GraphQL
 * door's implementation of the domain's readers.
 */
export interface Loaders extends Readers {
  /** A dataset by id; null when Visual Layer answers 404 (missing or not visible). */
  readonly dataset: DataLoader<string, Checked<UpstreamDataset> | null>
  readonly creationStatus: DataLoader<string, UpstreamCreationStatus | null>
  readonly models: DataLoader<string, Array<Checked<UpstreamModel>>>
  readonly enrichmentContext: DataLoader<string, UpstreamEnrichmentContext>
  /** A page of the task list, by its query (Query.tasks and Dataset.tasks asking the same share it). */
  readonly taskPage: DataLoader<TaskListParams, UpstreamTaskPage, string>
  /** Set once a load met an error every later load would meet (token refused, call budget spent). */
  readonly halt: { error: GatewayError | null }
  /** Forgets everything the loaders hold. */
  clearAll: () => void
  /**
   * Tells `reads` of every record loaded or primed from now on (null: no longer), with the value it
   * settles to: a live query watches what its execution read (src/graphql/live-queries.ts).
   */
  track: (reads: LoaderReads | null) => void
}

/** The loaders that read a record of Visual Layer, by the name of their Readers field; `account`: a list of the whole account (readAccount, no key). */
export type LoaderName = 'dataset' | 'creationStatus' | 'models' | 'enrichmentContext' | 'taskPage' | 'account'

/** Told of each load (or prime) while tracked: which loader, its key, and the value it settles to. */
export type LoaderReads = (loader: LoaderName, key: unknown, value: Promise<unknown>) => void

const ACCOUNT_READ = Promise.resolve(null)

export function createLoaders (vl: VisualLayerClient, call: CallOptions, concurrency: number): Loaders {
  return new OperationLoaders(vl, call, concurrency)
}

/**
 * Each loader is made the first time the operation asks for it: most operations read one or two
 * kinds, and a subscription (whose context lives as long as it does) would otherwise keep five
 * DataLoaders and a queue it never uses, per subscriber.
 */
class OperationLoaders implements Loaders {
  readonly halt: Loaders['halt'] = { error: null }
  private runner: Runner | undefined
  private made: {
    dataset?: Loaders['dataset']
    creationStatus?: Loaders['creationStatus']
    models?: Loaders['models']
    enrichmentContext?: Loaders['enrichmentContext']
    taskPage?: Loaders['taskPage']
  } = {}

  /** Datasets remembered before the dataset reader was made (see rememberDataset). */
  private remembered: Map<string, Checked<UpstreamDataset>> | null = null

  private reads: LoaderReads | null = null

  constructor (private readonly vl: VisualLayerClient, private readonly call: CallOptions, private readonly concurrency: number) {}

  get dataset (): Loaders['dataset'] {
    if (this.made.dataset !== undefined) return this.made.dataset
    const loader = this.made.dataset = this.tracked('dataset', perKey(this.run(), (id) => nullIfNotFound(this.vl.getDataset(id, this.call))))
    if (this.remembered !== null) for (const [id, record] of this.remembered) loader.prime(id, record)
    this.remembered = null
    return loader
  }

  rememberDataset (id: string, record: Checked<UpstreamDataset>): void {
    if (this.made.dataset !== undefined) {
      this.made.dataset.clear(id).prime(id, record)
      return
    }
    (this.remembered ??= new Map()).set(id, record)
  }

  get creationStatus (): Loaders['creationStatus'] {
    return (this.made.creationStatus ??= this.tracked('creationStatus', perKey(this.run(), (id) => nullIfNotFound(this.vl.getCreationStatus(id, this.call)))))
  }

  get models (): Loaders['models'] {
    return (this.made.models ??= this.tracked('models', perKey(this.run(), (id) => this.vl.listModels(id, this.call))))
  }

  get enrichmentContext (): Loaders['enrichmentContext'] {
    return (this.made.enrichmentContext ??= this.tracked('enrichmentContext', perKey(this.run(), (id) => this.vl.getEnrichmentContext(id, this.call))))
  }

  get taskPage (): Loaders['taskPage'] {
    const run = this.run()
    return (this.made.taskPage ??= this.tracked('taskPage', new DataLoader<TaskListParams, UpstreamTaskPage, string>(
      (pages) => Promise.all(pages.map((params) => run(() => this.vl.listTasks(params, this.call)))),
      { cacheKeyFn: (params) => JSON.stringify(Object.entries(params).filter(([, value]) => value !== undefined).sort(([a], [b]) => a.localeCompare(b))) }
    )))
  }

  track (reads: LoaderReads | null): void {
    this.reads = reads
  }

  readAccount (): void {
    this.reads?.('account', null, ACCOUNT_READ)
  }

  /** `loader`, telling the tracker (when there is one) of each load and prime: loadMany loads each key. */
  private tracked<K, V, C> (name: LoaderName, loader: DataLoader<K, V, C>): DataLoader<K, V, C> {
    const load = loader.load.bind(loader)
    const prime = loader.prime.bind(loader)
    loader.load = (key) => {
      const value = load(key)
      this.reads?.(name, key, value)
      return value
    }
    loader.prime = (key, value) => {
      this.reads?.(name, key, value instanceof Error ? Promise.reject(value) : Promise.resolve(value))
      return prime(key, value)
    }
    return loader
  }

  /** Forgets what the loaders made so far hold. */
  clearAll (): void {
    for (const loader of Object.values(this.made)) loader.clearAll()
    this.remembered = null
    this.halt.error = null
  }

  refresh (): void {
    this.clearAll()
    this.call.budget?.renew()
  }

  private run (): Runner {
    if (this.runner !== undefined) return this.runner
    // One limit for the whole operation: a page of 50 tasks never opens 50 upstream calls at once.
    const limit = limiter(this.concurrency)
    const halt = this.halt
    // Once halted, the remaining loads fail with that same error at no cost: a document of thousands
    // of ids must not make thousands of errors, each as dear to build as a call.
    this.runner = <V>(load: () => Promise<V>): Promise<V | Error> => limit(async () => {
      if (halt.error !== null) throw halt.error
      return await load()
    }).catch((err: unknown) => {
      if (failsTheOperation(err)) halt.error ??= err
      return toError(err)
    })
    return this.runner
  }
}

type Runner = <V>(load: () => Promise<V>) => Promise<V | Error>

/**
 * At most `concurrency` loads at once, the rest started in the order they came as those end. What
 * p-limit does, less what the loaders do not use (a changeable limit, counts, clearing): making a
 * p-limit (its queue, and the properties it defines on its function) was 1 % of the gateway's CPU on
 * requests that share nothing, most of which make one call (docs/performance.md).
 */
function limiter (concurrency: number): <V>(task: () => Promise<V>) => Promise<V> {
  let active = 0
  let waiting: Array<() => void> = []
  let head = 0
  const next = (): void => {
    active--
    if (head === waiting.length) return
    const start = waiting[head++]!
    if (head === waiting.length) {
      waiting = []
      head = 0
    }
    start()
  }
  const run = async <V>(task: () => Promise<V>): Promise<V> => {
    active++
    try {
      return await task()
    } finally {
      next()
    }
  }
  return async (task) => {
    if (active < concurrency) return await run(task)
    return await new Promise((resolve, reject) => {
      waiting.push(() => { run(task).then(resolve, reject) })
    })
  }
}

function perKey<V> (run: Runner, load: (key: string) => Promise<V>): DataLoader<string, V> {
  // Errors are returned per key, so one failed dataset does not fail its batch siblings.
  return new DataLoader<string, V>((keys) => Promise.all(keys.map((key) => run(() => load(key)))))
}

async function nullIfNotFound<V> (pending: Promise<V>): Promise<V | null> {
  try {
    return await pending
  } catch (err) {
    if (isGatewayError(err) && err.code === 'NOT_FOUND') return null
    throw err
  }
}

function toError (err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}
