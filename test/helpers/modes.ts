import { it } from 'vitest'
import { randomUUID } from 'node:crypto'
import { createSigner } from 'fast-jwt'
import { DEMO_ACCOUNTS, type DemoAccount } from '../../src/emulator/index.js'
import type { BuildOptions } from '../../src/app.js'
import { startTestGateway, type TestGateway } from './gateway.js'
import { visualLayerToken } from './tokens.js'

/**
 * The three auth modes, for suites that must hold in each: a gateway started in the mode, and
 * connection params with a fresh token that expires (none mode has no token).
 */
export type AuthMode = 'none' | 'passthrough' | 'jwt'
export const AUTH_MODES: readonly AuthMode[] = ['none', 'passthrough', 'jwt']

export const JWT_TEST_SECRET = 'an-hs256-secret-of-at-least-32-characters!'

const MODE_ENV: Record<AuthMode, Record<string, string>> = {
  none: { AUTH_MODE: 'none' },
  passthrough: { AUTH_MODE: 'passthrough' },
  // No tolerance: a test token's expiry is when it ends.
  jwt: { AUTH_MODE: 'jwt', JWT_SECRET: JWT_TEST_SECRET, JWT_CLOCK_TOLERANCE_SEC: '0' }
}

export async function startModeGateway (mode: AuthMode, env: Record<string, string> = {}, build: Omit<BuildOptions, 'logStream'> = {}): Promise<TestGateway> {
  return await startTestGateway({ ...modeEnv(mode), ...env }, build)
}

/** The settings of a gateway in `mode` (a test cluster starts its replicas with them). */
export function modeEnv (mode: AuthMode): Record<string, string> {
  return MODE_ENV[mode]
}

export interface TokenOptions {
  /** Seconds until the token expires. */
  ttlSec?: number
  /** passthrough: the Visual Layer account the token is for. */
  account?: Pick<DemoAccount, 'apiKey' | 'apiSecret'>
  /** jwt: the gateway token's subject. */
  subject?: string
}

/** A token never seen before (its own jti), valid for `ttlSec`; null in none mode. */
export function freshToken (mode: AuthMode, { ttlSec = 600, account = DEMO_ACCOUNTS.primary, subject = 'viewer' }: TokenOptions = {}): string | null {
  const exp = Math.floor(Date.now() / 1000) + ttlSec
  if (mode === 'passthrough') return visualLayerToken(account, { exp, jti: randomUUID() })
  if (mode === 'jwt') return createSigner({ key: JWT_TEST_SECRET, algorithm: 'HS256' })({ sub: subject, exp, jti: randomUUID() })
  return null
}

/** connection_init params carrying a fresh token (see freshToken). */
export function connectionParams (mode: AuthMode, options: TokenOptions = {}): Record<string, unknown> {
  const token = freshToken(mode, options)
  return token === null ? {} : { Authorization: `Bearer ${token}` }
}

/**
 * `it` in the modes that have caller tokens; in none mode the case is not defined at all (nothing
 * can expire or be refused there), so it neither runs nor shows as skipped.
 */
export function inTokenModes (mode: AuthMode): typeof it {
  if (mode !== 'none') return it
  return Object.assign(() => {}, { each: () => () => {} }) as unknown as typeof it
}
