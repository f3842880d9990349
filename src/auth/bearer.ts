import { GatewayError } from '../errors.js'

/** A refused caller. `reason` is a short kind for the log, which must never show the message's tokens. */
export function unauthenticated (reason: string, message: string): GatewayError {
  return new GatewayError('UNAUTHENTICATED', message, { logDetail: reason })
}

/** The token of an `Authorization: Bearer <token>` value; never echoes what it got. */
export function bearerToken (header: unknown): string {
  if (header === undefined || header === null || (typeof header === 'string' && header.trim() === '')) {
    throw unauthenticated('missing', 'Missing Authorization header: send "Authorization: Bearer <token>".')
  }
  const match = typeof header === 'string' ? /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header) : null
  if (match === null) throw unauthenticated('not-bearer', 'The Authorization header must have the form "Bearer <token>".')
  return match[1] as string
}
