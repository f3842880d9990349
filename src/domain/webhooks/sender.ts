import type { LookupAddress, LookupOneOptions } from 'node:dns'
import { Agent, request } from 'undici'
import { TargetRefused, type TargetPolicy } from './targets.js'

/*
 * One attempt of a delivery over HTTP (undici): a POST of the signed payload, no redirect followed
 * (undici's request follows none), the answer's body read up to `maxResponseBytes` and the rest
 * dropped, the socket closed afterwards (a kept connection would skip the next attempt's address
 * check). The host is resolved through the target policy at connect time, so the address connected
 * to is the one checked.
 */

export interface SendResult {
  statusCode: number | null
  error: string | null
  responseBody: string | null
}

export type Send = (url: string, headers: Record<string, string>, body: string, signal: AbortSignal) => Promise<SendResult>

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void

type Resolve = (hostname: string) => Promise<Array<{ address: string, family: number }>>

export function httpSender (policy: TargetPolicy, resolve: Resolve, maxResponseBytes: number): { send: Send, close: () => Promise<void> } {
  const lookup = (hostname: string, options: Omit<LookupOneOptions, 'all'> & { all?: boolean }, callback: LookupCallback): void => {
    resolve(hostname).then((addresses) => {
      const refused = addresses.find(({ address }) => !policy.permits(address))
      if (refused !== undefined || addresses.length === 0) {
        callback(Object.assign(new TargetRefused(`${hostname} resolves to ${refused?.address ?? 'nothing'}, which is not permitted`), { code: 'EREFUSEDTARGET' }), '')
        return
      }
      if (options.all === true) callback(null, addresses)
      else callback(null, addresses[0]?.address ?? '', addresses[0]?.family ?? 4)
    }, (err: NodeJS.ErrnoException) => { callback(err, '') })
  }
  const agent = new Agent({ connect: { lookup } as never, connections: null, pipelining: 0 })
  const send: Send = async (url, headers, body, signal) => {
    try {
      await policy.check(url)
    } catch (err) {
      return { statusCode: null, error: `refused: ${(err as Error).message}`, responseBody: null }
    }
    try {
      const answer = await request(url, {
        method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body, dispatcher: agent, signal, reset: true
      })
      const chunks: Buffer[] = []
      let size = 0
      try {
        for await (const chunk of answer.body as AsyncIterable<Buffer>) {
          chunks.push(chunk)
          size += chunk.length
          if (size >= maxResponseBytes) break
        }
      } catch {
        // A body cut short still has its status.
      }
      answer.body.destroy()
      const text = Buffer.concat(chunks).subarray(0, maxResponseBytes).toString('utf8')
      return { statusCode: answer.statusCode, error: null, responseBody: text === '' ? null : text }
    } catch (err) {
      if (signal.aborted) return { statusCode: null, error: 'no answer before the attempt\'s deadline (WEBHOOKS_ATTEMPT_TIMEOUT_MS)', responseBody: null }
      return { statusCode: null, error: describe(err), responseBody: null }
    }
  }
  return { send, close: async () => { await agent.close() } }
}

function describe (err: unknown): string {
  const cause = (err as { cause?: unknown }).cause
  if (cause instanceof TargetRefused || err instanceof TargetRefused) return `refused: ${((cause ?? err) as Error).message}`
  const code = (err as NodeJS.ErrnoException).code ?? (cause as NodeJS.ErrnoException | undefined)?.code
  return `network error${code === undefined ? '' : ` ${code}`}: ${(err as Error).message.slice(0, 200)}`
}
