import { createSigner } from 'fast-jwt'
import type { DemoAccount } from '../../src/emulator/index.js'

/** A Visual Layer JWT as its documentation describes it, for one of the emulator's accounts. */
export function visualLayerToken (account: Pick<DemoAccount, 'apiKey' | 'apiSecret'>, claims: Record<string, unknown> = {}, nowMs = Date.now()): string {
  const iat = Math.floor(nowMs / 1000)
  // fast-jwt keeps an iat given in the payload (noTimestamp would drop it).
  const sign = createSigner({ key: account.apiSecret, algorithm: 'HS256', kid: account.apiKey })
  return sign({ sub: account.apiKey, iss: 'sdk', iat, exp: iat + 600, ...claims })
}
