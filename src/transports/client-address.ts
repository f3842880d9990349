/*
 * Who the client is on the network, when proxies stand in front of the gateway (TRUST_PROXY). One
 * trust function serves Fastify (`request.ip`, used by HTTP and SSE limits) and the WebSocket upgrade
 * (a raw request Fastify never sees), so every door counts the same client the same way. Fastify 5
 * refuses a bare hop count (it trusts no hop then); a hop count is kept here on purpose, for
 * deployments where the gateway is reachable only through those proxies, and docs/configuration.md says so.
 */
import type { IncomingMessage } from 'node:http'
import proxyAddr from '@fastify/proxy-addr'
import type { TrustProxy } from '../config.js'

export type TrustFunction = (address: string, hop: number) => boolean

export function trustFunction (setting: TrustProxy): TrustFunction {
  if (setting === false) return () => false
  if (setting === true) return () => true
  if (typeof setting === 'number') return (_address, hop) => hop < setting
  return proxyAddr.compile([...setting])
}

/** The client's address as Fastify's `request.ip` would give it for this raw request. */
export function clientAddress (request: IncomingMessage, trust: TrustFunction): string {
  return proxyAddr(request, trust)
}
