import { lookup } from 'node:dns/promises'
import { BlockList, isIP } from 'node:net'

/*
 * Where a webhook may be sent: an http(s) URL whose host resolves only to public addresses. Loopback,
 * private, link-local (cloud metadata at 169.254.169.254 among them), carrier-grade NAT, multicast and
 * reserved ranges are refused at registration and again at every attempt (DNS can change between the
 * two), unless WEBHOOKS_ALLOW_PRIVATE_TARGETS lists the address or its range. The address checked is
 * the one connected to (sender.ts hands this lookup to the socket), so a second answer of the DNS cannot
 * slip past the check.
 */

export interface ResolvedAddress { address: string, family: number }
/** Every address of a host name, as dns.lookup({ all: true }) gives them. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>

export const systemResolver: Resolver = async (hostname) => await lookup(hostname, { all: true, verbatim: true })

const BLOCKED_V4 = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4]
] as const
const BLOCKED_V6 = [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['100::', 64], ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]
] as const

const blocked = new BlockList()
for (const [net, prefix] of BLOCKED_V4) blocked.addSubnet(net, prefix, 'ipv4')
for (const [net, prefix] of BLOCKED_V6) blocked.addSubnet(net, prefix, 'ipv6')

export class TargetRefused extends Error {}

/** Parses WEBHOOKS_ALLOW_PRIVATE_TARGETS' entries (addresses, or ranges as address/prefix). */
export function allowList (entries: readonly string[]): BlockList {
  const list = new BlockList()
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/')
    const family = isIP(address)
    if (family === 0) throw new Error(`${entry} is not an IP address or range`)
    const type = family === 4 ? 'ipv4' : 'ipv6'
    if (prefix === undefined) list.addAddress(address, type)
    else list.addSubnet(address, Number(prefix), type)
  }
  return list
}

/** An IPv4 address written as IPv6 (::ffff:a.b.c.d) is judged as the IPv4 address it is. */
function unmapped (address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  return mapped?.[1] ?? address
}

export class TargetPolicy {
  constructor (private readonly resolver: Resolver, private readonly allowed: BlockList) {}

  /** Whether one address may be connected to. */
  permits (rawAddress: string): boolean {
    const address = unmapped(rawAddress)
    const family = isIP(address)
    if (family === 0) return false
    const type = family === 4 ? 'ipv4' : 'ipv6'
    if (this.allowed.check(address, type)) return true
    return !blocked.check(address, type)
  }

  /** The syntax of a target URL: http(s), a host, no credentials, no fragment. Returns what is wrong, or null. */
  static problemOf (raw: string): string | null {
    let url: URL
    try {
      url = new URL(raw)
    } catch {
      return 'is not an absolute URL'
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http or https URL'
    if (url.username !== '' || url.password !== '') return 'must not carry a user name or password'
    if (url.hash !== '') return 'must not have a fragment'
    return null
  }

  /**
   * The addresses `url`'s host resolves to, every one of them permitted; throws TargetRefused naming
   * the first that is not, or the resolver's failure.
   */
  async check (rawUrl: string): Promise<ResolvedAddress[]> {
    const host = new URL(rawUrl).hostname.replace(/^\[|\]$/g, '')
    let addresses: ResolvedAddress[]
    if (isIP(host) !== 0) {
      addresses = [{ address: host, family: isIP(host) }]
    } else {
      try {
        addresses = await this.resolver(host)
      } catch (err) {
        throw new TargetRefused(`its host ${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
      }
      if (addresses.length === 0) throw new TargetRefused(`its host ${host} does not resolve`)
    }
    const refused = addresses.find(({ address }) => !this.permits(address))
    if (refused !== undefined) {
      throw new TargetRefused(`its host ${host} resolves to ${refused.address}, a loopback, private, link-local or reserved address ` +
        '(WEBHOOKS_ALLOW_PRIVATE_TARGETS does not list it)')
    }
    return addresses
  }
}
