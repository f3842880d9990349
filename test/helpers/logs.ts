import { Writable } from 'node:stream'

/** Captures pino's JSON lines in memory, for assertions on what the gateway logs. */
export class LogCapture extends Writable {
  private readonly chunks: string[] = []

  override _write (chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.chunks.push(chunk.toString())
    done()
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
