import { createSigner } from 'fast-jwt'

/*
 * Mints the service account's upstream JWTs exactly as Visual Layer documents them: HS256, header
 * `kid` = API key, claims `sub` = API key, `iat`, `exp`, `iss` = "sdk", signed with the API secret.
 * A token is reused until shortly before it expires, so a busy gateway signs a few per hour.
 */

export interface ServiceTokenOptions {
  apiKey: string
  apiSecret: string
  /** Lifetime of a minted token (Visual Layer's documented default is 10 minutes). */
  lifetimeMs?: number
  /** A token is replaced once less than this is left of its lifetime. */
  renewBeforeMs?: number
  now?: () => number
}

export class ServiceTokens {
  readonly apiKey: string
  private readonly sign: (payload: Record<string, unknown>) => string
  private readonly lifetimeMs: number
  private readonly renewBeforeMs: number
  private readonly now: () => number
  private current: { token: string, expiresAt: number } | null = null

  constructor (options: ServiceTokenOptions) {
    this.apiKey = options.apiKey
    this.lifetimeMs = options.lifetimeMs ?? 10 * 60_000
    this.renewBeforeMs = options.renewBeforeMs ?? 60_000
    this.now = options.now ?? Date.now
    this.sign = createSigner({ key: options.apiSecret, algorithm: 'HS256', kid: options.apiKey })
  }

  /** A valid token, minted anew only when the cached one is close to expiry. */
  token (): string {
    const now = this.now()
    if (this.current === null || this.current.expiresAt - this.renewBeforeMs <= now) {
      const iat = Math.floor(now / 1000)
      const exp = iat + Math.floor(this.lifetimeMs / 1000)
      this.current = { token: this.sign({ sub: this.apiKey, iss: 'sdk', iat, exp }), expiresAt: exp * 1000 }
    }
    return this.current.token
  }

  /** Drops the cached token, e.g. after Visual Layer refused it. */
  invalidate (refused: string): void {
    if (this.current?.token === refused) this.current = null
  }
}
