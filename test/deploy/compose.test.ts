import { readdirSync, readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { loadConfig, VARIABLE_NAMES, type Config } from '../../src/config.js'
import { DEMO_ACCOUNTS, SEED } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { all, locationFor, one, parseNginx, proxyHeaders, seconds, setting, type Directive } from './nginx-conf.js'

/*
 * deploy/compose.yaml and deploy/nginx.conf cannot drift from the code: no Docker runs here, so this
 * reads them and checks each gateway's environment is a valid configuration of known variables, each
 * healthcheck asks a real route on the configured port, and nginx upgrades WebSockets on /graphql,
 * streams events unbuffered and reaches every gateway on its port.
 */

const deployFile = (path: string): string => readFileSync(new URL(`../../deploy/${path}`, import.meta.url), 'utf8')

interface Service {
  build?: { context: string, dockerfile: string }
  command?: string[]
  environment?: Record<string, string>
  healthcheck?: { test: string[] }
  ports?: string[]
  volumes?: string[]
  stop_grace_period?: string
}

// Anchors and merge keys as Compose reads them.
const compose = parse(deployFile('compose.yaml'), { merge: true }) as { services: Record<string, Service> }
const services = compose.services
// The gateways are the services running the image's own command (the emulator runs another).
const gateways = Object.entries(services).filter(([, s]) => s.build?.dockerfile === 'Dockerfile' && s.command === undefined)
const nginx = parseNginx(deployFile('nginx.conf'))
const http = one(nginx, 'http')
const server = one(http.block, 'server')

/** The URL a healthcheck command asks, from its arguments. */
function probed (service: Service): URL {
  const url = service.healthcheck?.test.join(' ').match(/http:\/\/(?:127\.0\.0\.1|localhost):\d+\/[^'"\s)]*/)?.[0]
  if (url === undefined) throw new Error('no http healthcheck')
  return new URL(url)
}

function duration (value: string | undefined): number {
  const match = /^(\d+)(s|m)$/.exec(value ?? '')
  if (match === null) throw new Error(`not a duration: ${String(value)}`)
  return Number(match[1]) * (match[2] === 'm' ? 60 : 1)
}

let gw: TestGateway
beforeAll(async () => { gw = await startTestGateway() })
afterAll(async () => { await gw.close() })
const statusOf = async (path: string): Promise<number> => (await gw.app.inject({ method: 'GET', url: path })).statusCode

describe('deploy/compose.yaml', () => {
  const configs: Array<[string, Config]> = gateways.map(([name, service]) => [name, loadConfig(service.environment ?? {})])

  it('runs three gateways, each with a valid configuration of known variables, on the demo account of one emulator, sharing one Redis', () => {
    expect(gateways.map(([name]) => name)).toEqual(['gateway-1', 'gateway-2', 'gateway-3'])
    for (const [, service] of gateways) {
      for (const name of Object.keys(service.environment ?? {})) expect(VARIABLE_NAMES).toContain(name)
    }
    const emulatorPort = services.emulator?.environment?.EMULATOR_PORT
    for (const [, config] of configs) {
      expect(config.upstream).toMatchObject({ kind: 'remote', baseUrl: `http://emulator:${String(emulatorPort)}`, apiKey: DEMO_ACCOUNTS.primary.apiKey, apiSecret: DEMO_ACCOUNTS.primary.apiSecret })
      expect(config.redis.url).toBe('redis://redis:6379/0')
      expect(config.trustProxy).not.toBe(false)
    }
    expect(Object.keys(services).sort()).toEqual(['emulator', 'gateway-1', 'gateway-2', 'gateway-3', 'nginx', 'redis'])
    // The emulator reads these two (src/emulator/server.ts), not the gateway's configuration.
    expect(Object.keys(services.emulator?.environment ?? {})).toEqual(['EMULATOR_HOST', 'EMULATOR_PORT'])
  })

  it('checks each gateway\'s readiness on its own port, and stops it after SHUTDOWN_TIMEOUT_MS at the earliest', async () => {
    for (const [name, config] of configs) {
      const url = probed(services[name] as Service)
      expect([Number(url.port), url.pathname]).toEqual([config.port, '/health/ready'])
      expect(duration(services[name]?.stop_grace_period)).toBeGreaterThan(config.shutdownTimeoutMs / 1000)
    }
    expect(await statusOf('/health/ready')).toBe(200)
  })

  it('checks the emulator on the route Visual Layer answers its health check on', async () => {
    const url = probed(services.emulator as Service)
    expect(url.port).toBe(services.emulator?.environment?.EMULATOR_PORT)
    expect((await fetch(`${gw.emulator.url}${url.pathname}`)).status).toBe(200)
  })
})

describe('deploy/nginx.conf', () => {
  const port = loadConfig(gateways[0]?.[1].environment ?? {}).port
  const upstreams = all(http.block, 'upstream')

  it('balances over every gateway of compose.yaml, on the port it listens on', () => {
    expect(upstreams.length).toBeGreaterThan(0)
    for (const upstream of upstreams) {
      expect(all(upstream.block, 'server').map((d) => d.args[0])).toEqual(gateways.map(([name]) => `${name}:${port}`))
    }
  })

  it('listens where compose publishes it and checks its health through a gateway route', async () => {
    const listen = Number(one(server.block, 'listen').args[0])
    expect(services.nginx?.ports).toEqual([`8080:${listen}`])
    expect(services.nginx?.volumes).toEqual(['./nginx.conf:/etc/nginx/nginx.conf:ro'])
    const url = probed(services.nginx as Service)
    expect(Number(url.port)).toBe(listen)
    expect(await statusOf(url.pathname)).toBe(200)
  })

  const proxied = (uri: string): { location: Directive, headers: Record<string, string>, value: (name: string) => string | undefined } => {
    const location = locationFor(server, uri)
    const target = setting(server, location, 'proxy_pass')?.[0]
    expect(upstreams.map((u) => `http://${String(u.args[0])}`)).toContain(target)
    return { location, headers: proxyHeaders(server, location), value: (name) => setting(server, location, name)?.[0] }
  }

  it('upgrades WebSockets on /graphql, with a read timeout longer than a quiet subscription', () => {
    expect(gw.app.hasRoute({ method: 'GET', url: '/graphql' })).toBe(true)
    const graphql = proxied('/graphql')
    expect(graphql.value('proxy_http_version')).toBe('1.1')
    expect([graphql.headers.upgrade, graphql.headers.connection]).toEqual(['$http_upgrade', '$connection_upgrade'])
    const map = one(http.block, 'map')
    expect(map.args).toEqual(['$http_upgrade', '$connection_upgrade'])
    expect(Object.fromEntries((map.block ?? []).map((d) => [d.name, d.args[0]]))).toEqual({ default: 'upgrade', '': '' })
    expect(seconds(graphql.value('proxy_read_timeout') ?? '60s')).toBeGreaterThanOrEqual(600)
  })

  it('streams /graphql/stream and /v1/datasets/<id>/events unbuffered, with long read timeouts', () => {
    const streams = [['/graphql/stream', '/graphql/stream'], [`/v1/datasets/${SEED.datasets.ready}/events`, '/v1/datasets/:id/events']] as const
    for (const [uri, route] of streams) {
      expect(gw.app.hasRoute({ method: 'GET', url: route })).toBe(true)
      const stream = proxied(uri)
      expect([uri, stream.value('proxy_buffering'), stream.value('proxy_http_version')]).toEqual([uri, 'off', '1.1'])
      expect(seconds(stream.value('proxy_read_timeout') ?? '60s')).toBeGreaterThanOrEqual(600)
    }
    // Everything else is buffered as usual.
    expect(proxied('/v1/datasets').value('proxy_buffering')).toBeUndefined()
  })

  it('tells every gateway the client address in X-Forwarded-For, overwritten rather than appended', () => {
    for (const uri of ['/graphql', '/graphql/stream', `/v1/datasets/${SEED.datasets.ready}/events`, '/v1/tasks', '/graphiql', '/health/live']) {
      expect([uri, proxied(uri).headers['x-forwarded-for']]).toEqual([uri, '$remote_addr'])
    }
  })
})

describe('deploy/', () => {
  it('holds only files a test checks, and the image checks its liveness on a real route', async () => {
    const files = readdirSync(new URL('../../deploy/', import.meta.url), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile()).map((entry) => `${entry.parentPath.replace(/.*\/deploy\/?/, '')}/${entry.name}`.replace(/^\//, '')).sort()
    // compose.yaml and nginx.conf here; kubernetes/ in kubernetes.test.ts; the alerts and dashboard in test/deploy-alerts.test.ts.
    expect(files).toEqual([
      'compose.yaml', 'grafana-dashboard.json',
      'kubernetes/base/deployment.yaml', 'kubernetes/base/ingress.yaml', 'kubernetes/base/kustomization.yaml', 'kubernetes/base/networkpolicy.yaml',
      'kubernetes/base/service.yaml', 'kubernetes/base/settings.env',
      'kubernetes/components/jwt-auth/kustomization.yaml', 'kubernetes/components/jwt-auth/settings.env',
      'kubernetes/components/prometheus-operator/kustomization.yaml', 'kubernetes/components/prometheus-operator/name-references.yaml',
      'kubernetes/components/prometheus-operator/prometheusrule.yaml', 'kubernetes/components/prometheus-operator/service-metrics.yaml',
      'kubernetes/components/prometheus-operator/servicemonitor.yaml',
      'kubernetes/overlays/replicated/hpa.yaml', 'kubernetes/overlays/replicated/kustomization.yaml', 'kubernetes/overlays/replicated/networkpolicy-redis.yaml',
      'kubernetes/overlays/replicated/pdb.yaml', 'kubernetes/overlays/replicated/settings.env', 'kubernetes/overlays/single/kustomization.yaml',
      'nginx.conf', 'prometheus-alerts.yml'
    ])
    const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8')
    const env = [...dockerfile.matchAll(/^\s*(?:ENV\s+)?([A-Z_]+)=(\S+)/gm)].map(([, name]) => name)
    expect(env.sort()).toEqual(['HOST', 'NODE_ENV', 'PORT'])
    expect(dockerfile).toContain("fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/health/live')")
    // Debian's current stable, and OCI labels that say what the image is.
    expect([...dockerfile.matchAll(/^FROM (\S+)/gm)].map(([, image]) => image)).toEqual(['node:24-trixie-slim', 'node:24-trixie-slim'])
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name: string, version: string, license: string }
    const labels = Object.fromEntries([...dockerfile.matchAll(/org\.opencontainers\.image\.(\w+)="([^"]*)"/g)].map(([, key, value]) => [key, value]))
    expect(labels).toEqual({
      title: pkg.name,
      description: 'A GraphQL backend-for-frontend gateway in front of the Visual Layer Cloud REST API',
      version: pkg.version,
      licenses: pkg.license,
      source: '$' + '{SOURCE_URL}'
    })
    expect(await statusOf('/health/live')).toBe(200)
  })
})
