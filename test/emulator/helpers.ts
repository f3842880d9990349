import { createSigner } from 'fast-jwt'
import { DEMO_ACCOUNTS, startEmulator } from '../../src/emulator/index.js'
import type { DemoAccount, RunningEmulator } from '../../src/emulator/index.js'

/** Frozen start of the emulator clock in these tests. */
export const START = new Date('2026-03-02T12:00:00Z')
export const START_MS = START.getTime()
export const PRIMARY = DEMO_ACCOUNTS.primary
export const SECONDARY = DEMO_ACCOUNTS.secondary

export function startTestEmulator (): Promise<RunningEmulator> {
  return startEmulator({ clock: START })
}

export interface TokenOptions {
  account?: DemoAccount
  /** Seconds since the epoch used as `iat`; defaults to the emulator start. */
  nowSeconds?: number
  ttlSeconds?: number
  claims?: Record<string, unknown>
  secret?: string
}

/** A token signed as Visual Layer's README describes: HS256, kid = sub = API key, iss "sdk", exp = iat + 10 min. */
export function signToken (options: TokenOptions = {}): string {
  const account = options.account ?? PRIMARY
  const iat = options.nowSeconds ?? Math.floor(START_MS / 1000)
  const sign = createSigner({ key: options.secret ?? account.apiSecret, algorithm: 'HS256', kid: account.apiKey })
  return sign({ sub: account.apiKey, iss: 'sdk', iat, exp: iat + (options.ttlSeconds ?? 600), ...options.claims })
}

export interface Answer {
  status: number
  headers: Headers
  body: unknown
  text: string
}

export interface CallOptions {
  method?: string
  /** A token, null for no Authorization header, or a raw header value with `authorization`. */
  token?: string | null
  authorization?: string
  body?: unknown
  rawBody?: string
  headers?: Record<string, string>
}

/** Calls the emulator; by default with a fresh primary-account token signed at the emulator's current time. */
export async function call (emulator: RunningEmulator, path: string, options: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers }
  const token = options.token === undefined ? signToken({ nowSeconds: Math.floor(emulator.now() / 1000) }) : options.token
  if (options.authorization !== undefined) headers.authorization = options.authorization
  else if (token !== null) headers.authorization = `Bearer ${token}`
  let body: string | undefined
  if (options.rawBody !== undefined) body = options.rawBody
  else if (options.body !== undefined) body = JSON.stringify(options.body)
  if (body !== undefined && headers['content-type'] === undefined) headers['content-type'] = 'application/json'
  const response = await fetch(`${emulator.url}${path}`, { method: options.method ?? 'GET', headers, body })
  const text = await response.text()
  let parsed: unknown = text
  try {
    parsed = JSON.parse(text)
  } catch {
    // Not JSON: keep the text (fault bodies may be plain text).
  }
  return { status: response.status, headers: response.headers, body: parsed, text }
}

export const SECOND = 1000
export const MINUTE = 60 * SECOND
