import { KeyObject } from 'node:crypto'
import { createRemoteJWKSet, errors } from 'jose'
import { unauthenticated } from './bearer.js'

/*
 * Keys of a JSON Web Key Set, for verifying caller tokens in jwt mode. jose's remote key set
 * caches the set, refetches it on an unknown `kid` at most once per cooldown, and shares one
 * fetch between concurrent lookups: a flood of tokens with made-up `kid`s cannot turn into a
 * flood of requests to the key server (get-jwks refetches per unknown kid, hence jose).
 */

export interface JwksOptions {
  url: string
  cooldownMs?: number
  cacheMaxAgeMs?: number
  timeoutMs?: number
  /** Only tokens with these algorithms may cause a key lookup. */
  algorithms: readonly string[]
  /** Only tokens from this issuer may cause a key lookup. */
  issuer: string
}

export type KeyResolver = (header: { alg?: unknown, kid?: unknown }, payload: { iss?: unknown }) => Promise<string>

export function jwksKeyResolver (options: JwksOptions): KeyResolver {
  const keySet = createRemoteJWKSet(new URL(options.url), {
    cooldownDuration: options.cooldownMs ?? 30_000,
    cacheMaxAge: options.cacheMaxAgeMs ?? 10 * 60_000,
    timeoutDuration: options.timeoutMs ?? 5_000
  })
  return async (header, payload) => {
    if (payload.iss !== options.issuer) {
      throw unauthenticated('issuer', `The bearer token has the wrong issuer; this gateway accepts tokens from ${options.issuer}.`)
    }
    if (typeof header.kid !== 'string' || typeof header.alg !== 'string') {
      throw unauthenticated('no-kid', 'The bearer token names no key (kid header) from the configured key set.')
    }
    if (!options.algorithms.includes(header.alg)) {
      throw unauthenticated('algorithm', `The bearer token is signed with ${header.alg.slice(0, 10)}; this gateway accepts ${options.algorithms.join(' or ')}.`)
    }
    try {
      const key = await keySet({ alg: header.alg, kid: header.kid })
      const object = key instanceof KeyObject ? key : KeyObject.from(key as Parameters<typeof KeyObject.from>[0])
      return object.export({ format: 'pem', type: 'spki' }).toString()
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
        throw unauthenticated('unknown-kid', 'The bearer token is signed with a key (kid) the configured key set does not have.')
      }
      throw unauthenticated('jwks-unavailable', 'The key set to verify the bearer token could not be fetched; try again shortly.')
    }
  }
}
