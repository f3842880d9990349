import type { ExecutionResult } from 'graphql'
import type { SocketWriter } from './socket-writer.js'

/*
 * One change, serialised once. The subscribers of a change that share a credential scope and a
 * selection receive the same result object (src/graphql/shared-events.ts; live queries share theirs
 * too): its payload is serialised once, on first use, and every subscriber's `next` message is those
 * bytes with its own id spliced in front, written by the door itself instead of graphql-ws (which
 * validated and serialised the whole message for each subscriber, and waited for each write). A
 * result with errors is each subscriber's own (its request id, its record): it goes through
 * graphql-ws' `next` as before, as does one the writer refuses (the socket is closing).
 */

const payloads = new WeakMap<ExecutionResult, Buffer>()
const SUFFIX = 0x7d // '}'

/** The JSON of `result` as graphql-ws sends it with no errors (`{"data":...}`), serialised once per result object. */
export function payloadOf (result: ExecutionResult): Buffer {
  let bytes = payloads.get(result)
  if (bytes === undefined) payloads.set(result, bytes = Buffer.from(JSON.stringify(result)))
  return bytes
}

/** The text of an operation's `next` message before its payload, as graphql-ws writes it. */
export function nextPrefix (id: string): string {
  return `{"id":${JSON.stringify(id)},"type":"next","payload":`
}

/** `prefix`, `payload` and the closing brace: one `next` message. */
export function splice (prefix: string, payload: Buffer): Buffer {
  const head = Buffer.byteLength(prefix)
  const message = Buffer.allocUnsafe(head + payload.length + 1)
  message.write(prefix, 0)
  payload.copy(message, head)
  message[message.length - 1] = SUFFIX
  return message
}

/**
 * An operation's results as graphql-ws iterates them, with every result without errors written here
 * and not handed on: graphql-ws sees the others, the end and a failure. Its pending `next()` is one
 * promise resolved when there is something to hand on, so a long subscription builds no chain of
 * promises, and a quiet one holds one pending reaction.
 */
export class FramedResults implements AsyncGenerator<ExecutionResult> {
  /** Kept as text, not bytes: a Buffer per subscription cost more memory than encoding it at each event. */
  private readonly prefix: string
  private resolve: ((step: IteratorResult<ExecutionResult>) => void) | null = null
  private reject: ((err: unknown) => void) | null = null

  constructor (private readonly source: AsyncIterator<ExecutionResult>, id: string, private readonly writer: SocketWriter) {
    this.prefix = nextPrefix(id)
  }

  next (): Promise<IteratorResult<ExecutionResult>> {
    return new Promise((resolve, reject) => {
      this.resolve = resolve
      this.reject = reject
      this.pull()
    })
  }

  async return (): Promise<IteratorResult<ExecutionResult>> {
    return await (this.source.return?.() ?? Promise.resolve({ value: undefined, done: true }))
  }

  async throw (err: unknown): Promise<IteratorResult<ExecutionResult>> {
    if (this.source.throw !== undefined) return await this.source.throw(err)
    await this.return()
    throw err
  }

  [Symbol.asyncIterator] (): AsyncGenerator<ExecutionResult> {
    return this
  }

  private pull (): void {
    // Closures made per event rather than kept per subscription: a quiet subscription holds less.
    this.source.next().then((step) => { this.stepped(step) }, (err: unknown) => { this.failed(err) })
  }

  private stepped (step: IteratorResult<ExecutionResult>): void {
    if (step.done !== true && step.value.errors === undefined) {
      const message = splice(this.prefix, payloadOf(step.value))
      if (this.writer.write(message, message.length)) {
        this.pull()
        return
      }
    }
    const resolve = this.resolve
    this.resolve = this.reject = null
    resolve?.(step)
  }

  private failed (err: unknown): void {
    const reject = this.reject
    this.resolve = this.reject = null
    reject?.(err)
  }
}
