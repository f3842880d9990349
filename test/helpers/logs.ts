import { Writable } from 'node:stream'
import { when } from './wait.js'

/** Captures pino's JSON lines in memory, for assertions on what the gateway logs. */
export class LogCapture extends Writable {
  private readonly chunks: string[] = []
  private readonly watchers = new Set<(line: undefined) => void>()

  override _write (chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.chunks.push(chunk.toString())
    for (const listener of [...this.watchers]) listener(undefined)
    done()
  }

  /**
   * Resolves once an entry captured so far (or from now on), from the `from`th on, matches; `what`
   * names it in the failure.
   */
  async logged (what: string, match: (entry: Record<string, unknown>) => boolean, { from = 0, timeoutMs }: { from?: number, timeoutMs?: number } = {}): Promise<void> {
    await when<undefined>(`log line: ${what}`, (listener) => {
      this.watchers.add(listener)
      return () => { this.watchers.delete(listener) }
    }, () => this.entries().slice(from).some(match), timeoutMs)
  }

  /** Tells `listener` of each line written from now on; the function returned stops. */
  watch (listener: (line: undefined) => void): () => void {
    this.watchers.add(listener)
    return () => { this.watchers.delete(listener) }
  }

  /** Forgets what was captured so far (between the tests of one gateway). */
  clear (): void {
    this.chunks.length = 0
  }

  text (): string {
    return this.chunks.join('')
  }

  entries (): Array<Record<string, unknown>> {
    return this.text().split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as Record<string, unknown>)
  }
}
