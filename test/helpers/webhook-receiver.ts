import { once } from 'node:events'
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'
import { nextEvent, when } from './wait.js'

/*
 * A partner's receiver: a real HTTP server that verifies every delivery with standardwebhooks (the
 * Standard Webhooks library a partner would use) against the secrets it is given, records each one,
 * and answers what the test says: a status, or nothing at all (`hang`, until the receiver closes).
 */

export interface Received {
  readonly headers: IncomingHttpHeaders
  readonly body: string
  readonly event: { id: string, type: string, timestamp: string, data: any }
  /** Which of the receiver's secrets verified it (their indexes); empty: none did. */
  readonly verifiedBy: number[]
  /** The test's clock when it arrived. */
  readonly at: number
}

export type Answer = number | 'hang'

export class Receiver {
  readonly received: Received[] = []
  secrets: string[] = []
  private readonly listeners = new Set<(received: Received) => void>()
  private readonly hanging = new Set<ServerResponse>()
  private readonly server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const headers = req.headers
      const verifiedBy = this.secrets.flatMap((secret, index) => {
        try {
          new Webhook(secret).verify(body, headers as Record<string, string>)
          return [index]
        } catch {
          return []
        }
      })
      const received: Received = { headers, body, event: JSON.parse(body), verifiedBy, at: this.clock() }
      this.received.push(received)
      const answer = this.answer(this.received.length, received)
      if (answer === 'hang') this.hanging.add(res)
      else res.writeHead(answer, { 'content-type': 'text/plain' }).end(answer < 300 ? 'ok' : 'no')
      for (const listener of this.listeners) listener(received)
    })
  })

  url = ''

  constructor (private readonly answer: (count: number, received: Received) => Answer = () => 200, private readonly clock: () => number = () => 0) {}

  static async start (answer?: (count: number, received: Received) => Answer, clock?: () => number): Promise<Receiver> {
    const receiver = new Receiver(answer, clock)
    receiver.server.listen(0, '127.0.0.1')
    await once(receiver.server, 'listening')
    receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}/hooks`
    return receiver
  }

  /** Resolves once `count` deliveries have arrived in all. */
  async count (count: number): Promise<void> {
    await when(`${count} deliveries at ${this.url}`, (listener) => this.listen(listener), () => this.received.length >= count)
  }

  /** The next delivery to arrive. */
  async next (): Promise<Received> {
    return await nextEvent(`a delivery at ${this.url}`, (listener) => this.listen(listener))
  }

  async close (): Promise<void> {
    for (const res of this.hanging) res.destroy()
    this.server.closeAllConnections()
    this.server.close()
    await once(this.server, 'close')
  }

  /** Calls `listener` with each delivery as it arrives (before it is answered); returns the way to stop. */
  listen (listener: (received: Received) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }
}
