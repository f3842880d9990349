import { randomUUID } from 'node:crypto'
import { DEMO_ACCOUNTS, type DemoAccount } from '../../../src/emulator/index.js'
import { visualLayerToken } from '../../helpers/tokens.js'

/*
 * Tokens of the suite (AUTH_MODE=passthrough, as the attacker found the gateway). A forged token has
 * Visual Layer's shape and an unexpired exp, so the gateway takes it until Visual Layer refuses it:
 * what anyone can mint without an account. By default it names an API key of its own making (as kid
 * and sub), so it counts where an anonymous attacker's tokens count (its address); `claiming` names a
 * real account's key instead. Each call mints a token never seen before (its own jti).
 */

export function forgedToken (claiming?: DemoAccount): string {
  const apiKey = claiming?.apiKey ?? `vl-made-up-${randomUUID()}`
  return visualLayerToken({ apiKey, apiSecret: 'not-the-secret-of-this-api-key' }, { jti: randomUUID() })
}

export function genuineToken (account: DemoAccount = DEMO_ACCOUNTS.primary): string {
  return visualLayerToken(account, { jti: randomUUID() })
}

export function bearer (token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` }
}
