import { GatewayError } from '../errors.js'

export function unauthenticated (message: string): GatewayError {
  return new GatewayError('UNAUTHENTICATED', message)
}

/** The token of an `Authorization: Bearer <token>` value; never echoes what it got. */
export function bearerToken (header: unknown): string {
  if (header === undefined || header === null || (typeof header === 'string' && header.trim() === '')) {
    throw unauthenticated('Missing Authorization header: send "Authorization: Bearer <token>".')
  }
  const match = typeof header === 'string' ? /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header) : null
  if (match === null) throw unauthenticated('The Authorization header must have the form "Bearer <token>".')
  return match[1] as string
}
