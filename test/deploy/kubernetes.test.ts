import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, posix, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse, parseAllDocuments } from 'yaml'
import { ALERTS, prometheusRule, RULE } from '../../scripts/prometheus-rule.mjs'
import { ConfigError, loadConfig, VARIABLE_NAMES, type Config } from '../../src/config.js'
import { SEED } from '../../src/emulator/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { problemsOf, schemaProblemsOf } from './k8s-objects.js'

/*
 * deploy/kubernetes/ cannot drift from the code: no cluster runs here, so this renders every overlay with
 * `kubectl kustomize` (each with and without the jwt-auth component) and checks the objects: the kinds and
 * names, the fields the API requires, that the ConfigMap holds only the gateway's variables and loads as a
 * configuration once the credentials it names are given (and refuses to start while they are empty), that
 * every Secret referenced exists with the key asked, that ports, probes, selectors and the scrape point at
 * what that configuration serves (asked of a running gateway), that draining fits in the grace period,
 * and that the PrometheusRule carries deploy/prometheus-alerts.yml.
 */

const root = fileURLToPath(new URL('../../deploy/kubernetes/', import.meta.url))
const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' })
const hasKubectl = kubectl.error === undefined && kubectl.status === 0
// CI has kubectl; elsewhere a machine without it skips the rendering and says so in the suites' names.
const skip = !hasKubectl && process.env.CI !== 'true'
const SKIPPED = ' (skipped: kubectl is not on PATH; install it to render deploy/kubernetes, as CI=true requires)'

function render (dir: string): any[] {
  const result = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' })
  if (result.error !== undefined || result.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${result.error?.message ?? result.stderr}`)
  return parseAllDocuments(result.stdout).map((doc) => doc.toJS() as any)
}

/** An overlay with components added, as a platform team's own kustomization would add them. */
function withComponents (overlay: string, components: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'vlgw-kustomize-'))
  const from = (path: string): string => relative(dir, join(root, path)).split('\\').join(posix.sep)
  writeFileSync(join(dir, 'kustomization.yaml'), `resources:\n  - ${from(overlay)}\ncomponents:\n${components.map((c) => `  - ${from(c)}\n`).join('')}`)
  temporary.push(dir)
  return dir
}
const temporary: string[] = []
afterAll(() => { for (const dir of temporary) rmSync(dir, { recursive: true, force: true }) })

// The credentials Secret keys each variant holds, each named by its <NAME>_FILE setting.
const MOUNT = '/var/run/secrets/visual-layer-gateway'
const JWT_KEYS = { JWT_SECRET_FILE: 'jwt-secret', VL_API_KEY_FILE: 'vl-api-key', VL_API_SECRET_FILE: 'vl-api-secret' }
interface Variant {
  name: string
  dir: () => string
  replicated: boolean
  jwt: boolean
  credentials: Record<string, string>
}
const variants: Variant[] = [
  { name: 'overlays/single', dir: () => join(root, 'overlays/single'), replicated: false, jwt: false, credentials: { METRICS_TOKEN_FILE: 'metrics-token' } },
  { name: 'overlays/replicated', dir: () => join(root, 'overlays/replicated'), replicated: true, jwt: false, credentials: { METRICS_TOKEN_FILE: 'metrics-token', REDIS_URL_FILE: 'redis-url' } },
  { name: 'overlays/single + components/jwt-auth', dir: () => withComponents('overlays/single', ['components/jwt-auth']), replicated: false, jwt: true, credentials: { METRICS_TOKEN_FILE: 'metrics-token', ...JWT_KEYS } },
  { name: 'overlays/replicated + components/jwt-auth', dir: () => withComponents('overlays/replicated', ['components/jwt-auth']), replicated: true, jwt: true, credentials: { METRICS_TOKEN_FILE: 'metrics-token', REDIS_URL_FILE: 'redis-url', ...JWT_KEYS } }
]

// Values of the right shape for each credential, as an operator gives them in an overlay of their own.
const STAND_INS: Record<string, string> = {
  'metrics-token': 'scrape-token-0123456789',
  'redis-url': 'rediss://:password@redis.example.internal:6380/0',
  'jwt-secret': 'a-shared-secret-of-at-least-32-characters',
  'vl-api-key': 'service-account-key',
  'vl-api-secret': 'service-account-secret'
}
// Variables the runtime reads rather than the gateway's configuration.
const RUNTIME = ['NODE_OPTIONS']
const CREDENTIALS = VARIABLE_NAMES.filter((name) => name.endsWith('_FILE')).map((name) => name.slice(0, -'_FILE'.length))
const mib = (quantity: string): number => Number(/^(\d+)(Mi|Gi)$/.exec(quantity)?.[1]) * (quantity.endsWith('Gi') ? 1024 : 1)
const token = STAND_INS['metrics-token'] ?? ''

let gw: TestGateway
beforeAll(async () => {
  // READY_CACHE_MS 0: each readiness answer asks Visual Layer again, so a fault is seen at once.
  gw = await startTestGateway({ METRICS_PORT: '0', METRICS_TOKEN: token, READY_CACHE_MS: '0' })
})
afterAll(async () => { await gw.close() })

// Skipped only where kubectl is not installed and CI is not set (a developer machine without it): rendering the
// manifests needs kubectl with Kustomize; CI=true makes its absence a failure, so CI always runs these.
describe.skipIf(skip).each(variants)(`deploy/kubernetes: $name${skip ? SKIPPED : ''}`, (variant) => {
  // A skipped suite is still collected: render nothing then.
  if (skip) {
    it('renders with kubectl kustomize', () => {})
    return
  }
  const objects = render(variant.dir())
  // The name without the hash kustomize gives what it generates (the ConfigMap and the Secret).
  const nameOf = (o: any): string => ['ConfigMap', 'Secret'].includes(o.kind) ? String(o.metadata.name).replace(/-[a-z0-9]{10}$/, '') : String(o.metadata.name)
  const all = (kind: string): any[] => objects.filter((o) => o.kind === kind)
  const only = (kind: string, name = 'visual-layer-gateway'): any => {
    const found = objects.filter((o) => o.kind === kind && nameOf(o) === name)
    if (found.length !== 1) throw new Error(`expected one ${kind} ${name}, found ${found.length}`)
    return found[0]
  }
  const deployment = only('Deployment')
  const pod = deployment.spec.template
  const container = pod.spec.containers[0]
  const settings = only('ConfigMap', 'visual-layer-gateway-settings')
  const secret = only('Secret', 'visual-layer-gateway-credentials')
  const secretData: Record<string, string> = Object.fromEntries(Object.entries<string>(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]))
  const service = only('Service')
  const metricsService = only('Service', 'visual-layer-gateway-metrics')
  const monitor = only('ServiceMonitor')
  const policy = only('NetworkPolicy')
  const portOf = (name: string): number => container.ports.find((p: any) => p.name === name).containerPort
  const mount = container.volumeMounts.find((m: any) => m.name === 'credentials')
  const env: Record<string, string> = { ...settings.data, ...Object.fromEntries(container.env.map((e: any) => [e.name, e.value])) }
  const gatewayEnv = Object.fromEntries(Object.entries(env).filter(([name]) => !RUNTIME.includes(name)))
  // The credentials volume as the pod sees it: the stand-ins where the Secret is still empty.
  const readMounted = (values: Record<string, string>) => (path: string): string => {
    const key = posix.relative(mount.mountPath, path)
    if (posix.dirname(path) !== mount.mountPath || !(key in values)) throw Object.assign(new Error(`no file ${path}`), { code: 'ENOENT' })
    return values[key] ?? ''
  }
  const config: Config = loadConfig(gatewayEnv, readMounted({ ...secretData, ...STAND_INS }))

  it('renders the kinds and names expected, each valid as the API requires', () => {
    const names = objects.map((o) => `${String(o.kind)}/${nameOf(o)}`).sort()
    expect(names).toEqual([
      'ConfigMap/visual-layer-gateway-settings',
      'Deployment/visual-layer-gateway',
      ...(variant.replicated ? ['HorizontalPodAutoscaler/visual-layer-gateway'] : []),
      'Ingress/visual-layer-gateway',
      'Ingress/visual-layer-gateway-live',
      'NetworkPolicy/visual-layer-gateway',
      ...(variant.replicated ? ['PodDisruptionBudget/visual-layer-gateway'] : []),
      'PrometheusRule/visual-layer-gateway',
      'Secret/visual-layer-gateway-credentials',
      'Service/visual-layer-gateway',
      'Service/visual-layer-gateway-metrics',
      'ServiceMonitor/visual-layer-gateway'
    ])
    expect(objects.flatMap(problemsOf)).toEqual([])
    expect(objects.flatMap(schemaProblemsOf)).toEqual([])
    // Named for their content, so that a changed setting or credential rolls the pods, which read both once.
    expect([settings.metadata.name, secret.metadata.name]).toEqual([
      expect.stringMatching(/^visual-layer-gateway-settings-[a-z0-9]{10}$/),
      expect.stringMatching(/^visual-layer-gateway-credentials-[a-z0-9]{10}$/)
    ])
  })

  it('sets only variables of the configuration, credentials only through their files', () => {
    for (const name of Object.keys(settings.data)) expect([name, VARIABLE_NAMES.includes(name)]).toEqual([name, true])
    for (const name of CREDENTIALS) expect([name, settings.data[name]]).toEqual([name, undefined])
    expect(container.envFrom).toEqual([{ configMapRef: { name: settings.metadata.name } }])
    expect(container.env.map((e: any) => e.name)).toEqual(RUNTIME)
    expect([config.upstream.kind, config.authMode, config.host]).toEqual(['remote', variant.jwt ? 'jwt' : 'passthrough', '0.0.0.0'])
    expect(config.redis.url).toBe(variant.replicated ? STAND_INS['redis-url'] : null)
    expect(config.metricsToken).toBe(token)
    if (variant.jwt) {
      expect(config.jwt.secret).toBe(STAND_INS['jwt-secret'])
      expect(config.upstream.kind === 'remote' && [config.upstream.apiKey, config.upstream.apiSecret]).toEqual([STAND_INS['vl-api-key'], STAND_INS['vl-api-secret']])
    }
  })

  it('reads each credential from a file of the mounted Secret, and does not start while one is empty', () => {
    const fileSettings = Object.fromEntries(Object.entries<string>(settings.data).filter(([name]) => name.endsWith('_FILE')))
    expect(fileSettings).toEqual(Object.fromEntries(Object.entries(variant.credentials).map(([name, key]) => [name, `${MOUNT}/${key}`])))
    expect(mount).toEqual({ name: 'credentials', mountPath: MOUNT, readOnly: true })
    const volume = pod.spec.volumes.find((v: any) => v.name === 'credentials')
    expect(volume.secret).toEqual({ secretName: secret.metadata.name, defaultMode: 0o440 })
    // Every key is a credential the configuration reads, and empty until the operator gives it.
    expect(Object.keys(secretData).sort()).toEqual(Object.values(variant.credentials).sort())
    expect(Object.values(secretData).every((value) => value === '')).toBe(true)
    let refused: unknown
    try { loadConfig(gatewayEnv, readMounted(secretData)) } catch (err) { refused = err }
    expect(refused).toBeInstanceOf(ConfigError)
    // One problem per credential, in the configuration's order, naming the variable and the file.
    const empty = CREDENTIALS.filter((name) => `${name}_FILE` in variant.credentials)
    expect((refused as ConfigError).problems).toEqual(empty.map((name) => `${name}_FILE: "${MOUNT}/${variant.credentials[`${name}_FILE`] ?? ''}" is empty`))
  })

  it('references only Secrets it renders, with the keys asked, but the Ingress certificate', () => {
    const secrets = new Map(all('Secret').map((s) => [s.metadata.name, Object.keys(s.data ?? {})]))
    const refs: Array<[string, string | null]> = [
      ...pod.spec.volumes.filter((v: any) => v.secret !== undefined).map((v: any): [string, null] => [v.secret.secretName, null]),
      ...monitor.spec.endpoints.map((e: any): [string, string] => [e.authorization.credentials.name, e.authorization.credentials.key])
    ]
    expect(refs).toEqual([[secret.metadata.name, null], [secret.metadata.name, 'metrics-token']])
    for (const [name, key] of refs) {
      expect([name, secrets.has(name)]).toEqual([name, true])
      if (key !== null) expect(secrets.get(name)).toContain(key)
    }
    // The scrape sends the very token the gateway reads.
    expect(`${MOUNT}/${String(refs[1]?.[1])}`).toBe(settings.data.METRICS_TOKEN_FILE)
    // Made by cert-manager (or by hand) for the host: docs/kubernetes.md.
    expect(all('Ingress').flatMap((i) => i.spec.tls.map((t: any) => t.secretName))).toEqual(['visual-layer-gateway-tls', 'visual-layer-gateway-tls'])
  })

  it('serves the API on the public Service and the metrics port on its own Service, scraped by the ServiceMonitor alone', () => {
    expect(portOf('http')).toBe(config.port)
    expect(portOf('metrics')).toBe(config.metricsPort)
    expect(service.spec).toEqual({ type: 'ClusterIP', selector: pod.metadata.labels, ports: [{ name: 'http', port: 80, targetPort: 'http' }] })
    expect(metricsService.spec).toEqual({ clusterIP: 'None', selector: pod.metadata.labels, ports: [{ name: 'metrics', port: config.metricsPort, targetPort: 'metrics' }] })
    const selects = (labels: Record<string, string>): boolean => Object.entries<string>(monitor.spec.selector.matchLabels).every(([key, value]) => labels[key] === value)
    expect([selects(metricsService.metadata.labels), selects(service.metadata.labels)]).toEqual([true, false])
    expect(monitor.spec.endpoints).toEqual([{
      port: 'metrics',
      path: '/metrics',
      interval: '30s',
      authorization: { type: 'Bearer', credentials: { name: secret.metadata.name, key: 'metrics-token' } }
    }])
    // The job is the one deploy/prometheus-alerts.yml's GatewayTargetMissing looks for.
    expect(metricsService.metadata.labels[monitor.spec.jobLabel]).toBe('visual-layer-gateway')
    expect(parse(readFileSync(ALERTS, 'utf8')).groups[0].rules[0].expr).toBe('absent(up{job="visual-layer-gateway"} == 1)')
    // Scraped through the ServiceMonitor (with the token), not by annotation (which would send none).
    expect(pod.metadata.annotations).toBeUndefined()
  })

  it('routes the ingress to the API port, with WebSockets and event streams unbuffered and hour-long timeouts', () => {
    const api = only('Ingress')
    const live = only('Ingress', 'visual-layer-gateway-live')
    const backend = { service: { name: service.metadata.name, port: { name: 'http' } } }
    expect(service.spec.ports.map((p: any) => p.name)).toContain(backend.service.port.name)
    for (const ingress of [api, live]) {
      expect(ingress.spec.ingressClassName).toBe('nginx')
      expect(ingress.spec.tls).toEqual([{ hosts: ['gateway.example.com'], secretName: 'visual-layer-gateway-tls' }])
      expect(ingress.spec.rules.map((r: any) => r.host)).toEqual(['gateway.example.com'])
    }
    expect(api.spec.rules[0].http.paths).toEqual([{ path: '/', pathType: 'Prefix', backend }])
    expect(api.metadata.annotations).toEqual({
      'nginx.ingress.kubernetes.io/proxy-body-size': '2m',
      'nginx.ingress.kubernetes.io/proxy-read-timeout': '60'
    })
    expect(live.spec.rules[0].http.paths).toEqual([
      { path: '/graphql', pathType: 'Exact', backend },
      { path: '/graphql/stream', pathType: 'Exact', backend },
      { path: '/v1/datasets', pathType: 'Prefix', backend }
    ])
    // Which Ingress serves a request, as the controller matches them: an exact path first, then the longest prefix
    // (by whole path elements).
    const ingressFor = (uri: string): string => {
      const candidates = [api, live].flatMap((ingress) => ingress.spec.rules[0].http.paths.map((p: any) => ({ ingress: ingress.metadata.name, ...p })))
      const exact = candidates.find((p) => p.pathType === 'Exact' && p.path === uri)
      const prefixes = candidates.filter((p) => p.pathType === 'Prefix' && (p.path === '/' || uri === p.path || uri.startsWith(`${String(p.path)}/`)))
      return exact?.ingress ?? prefixes.sort((a, b) => b.path.length - a.path.length)[0]?.ingress
    }
    const served = ['/graphql', '/graphql/stream', `/v1/datasets/${SEED.datasets.ready}/events`, '/v1/datasets', '/v1/tasks', '/v1/datasetsX', '/graphiql', '/health/live']
    expect(served.map((uri) => [uri, ingressFor(uri)])).toEqual([
      ['/graphql', live.metadata.name],
      ['/graphql/stream', live.metadata.name],
      [`/v1/datasets/${SEED.datasets.ready}/events`, live.metadata.name],
      ['/v1/datasets', live.metadata.name],
      ['/v1/tasks', api.metadata.name],
      ['/v1/datasetsX', api.metadata.name],
      ['/graphiql', api.metadata.name],
      ['/health/live', api.metadata.name]
    ])
    expect(live.metadata.annotations).toEqual({
      'nginx.ingress.kubernetes.io/proxy-body-size': '2m',
      'nginx.ingress.kubernetes.io/proxy-http-version': '1.1',
      'nginx.ingress.kubernetes.io/proxy-buffering': 'off',
      'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600',
      'nginx.ingress.kubernetes.io/proxy-send-timeout': '3600'
    })
  })

  it('lets in only the ingress controller (API) and Prometheus (metrics), and out only DNS, Visual Layer and Redis', () => {
    const vl = new URL(config.upstream.kind === 'remote' ? config.upstream.baseUrl : '')
    expect(vl.protocol).toBe('https:')
    expect(policy.spec).toEqual({
      podSelector: { matchLabels: pod.metadata.labels },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'ingress-nginx' } } }],
          ports: [{ port: 'http', protocol: 'TCP' }]
        },
        {
          from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } }],
          ports: [{ port: 'metrics', protocol: 'TCP' }]
        }
      ],
      egress: [
        {
          to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
          ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }]
        },
        {
          // Visual Layer: public addresses on VL_BASE_URL's port; the private and link-local ranges stay closed.
          to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16'] } }],
          ports: [{ port: Number(vl.port === '' ? 443 : vl.port), protocol: 'TCP' }]
        },
        ...(variant.replicated ? [{ to: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'redis' } } }], ports: [{ port: 6379, protocol: 'TCP' }] }] : [])
      ]
    })
    for (const rule of policy.spec.ingress) expect(container.ports.map((p: any) => p.name)).toContain(rule.ports[0].port)
  })

  it('drains within the grace period: preStop delay, then SHUTDOWN_TIMEOUT_MS, with room to spare', () => {
    const [command, delay] = container.lifecycle.preStop.exec.command
    expect(command).toBe('sleep')
    expect(Number(delay)).toBeGreaterThanOrEqual(5)
    expect(Number(delay) + config.shutdownTimeoutMs / 1000 + 5).toBeLessThanOrEqual(pod.spec.terminationGracePeriodSeconds)
  })

  it('runs as a non-root user without privileges, with memory fixed to the heap settings and no CPU limit', () => {
    expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000 })
    expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } })
    // One thread of JavaScript: a CPU limit would only throttle garbage collection and stall the event loop.
    expect(container.resources).toEqual({ requests: { cpu: '2', memory: '2Gi' }, limits: { memory: '2Gi' } })
    const heapMib = Number(/--max-old-space-size=(\d+)/.exec(env.NODE_OPTIONS ?? '')?.[1])
    expect(heapMib).toBeLessThan(mib(container.resources.limits.memory))
    expect(config.loadShedding.maxHeapUsedBytes).toBeGreaterThan(0)
    expect(config.loadShedding.maxHeapUsedBytes).toBeLessThan(heapMib * 1024 * 1024)
  })

  it('probes the process on real routes, on the port the gateway listens on, readiness apart from Visual Layer', () => {
    const probes = { readinessProbe: '/health/live', livenessProbe: '/health/live', startupProbe: '/health/live' }
    for (const [probe, path] of Object.entries(probes)) expect([probe, container[probe].httpGet]).toEqual([probe, { path, port: 'http' }])
  })

  // Each overlay has the one of these two that applies to it (none is counted as skipped).
  if (variant.replicated) {
    it('lets the autoscaler own the count, and a drain take one pod of at least three', () => {
      const autoscaler = only('HorizontalPodAutoscaler')
      const budget = only('PodDisruptionBudget')
      expect(budget.spec.selector.matchLabels).toEqual(pod.metadata.labels)
      expect(autoscaler.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name })
      // A count in the Deployment would reset the autoscaler's at every apply.
      expect(deployment.spec.replicas).toBeUndefined()
      // A drain may take one pod when the autoscaler holds its fewest: at least two stay.
      expect(autoscaler.spec.minReplicas - budget.spec.maxUnavailable).toBeGreaterThanOrEqual(2)
      expect(autoscaler.spec.maxReplicas).toBeGreaterThan(autoscaler.spec.minReplicas)
      expect(autoscaler.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 35 } } }])
    })
  }

  if (!variant.replicated) {
    it('runs exactly one replica, without Redis and so without an autoscaler', () => {
      expect(deployment.spec.replicas).toBe(1)
      expect(config.redis.url).toBeNull()
    })
  }

  it('selects the pods from the Deployment and both Services', () => {
    expect(deployment.spec.selector.matchLabels).toEqual(pod.metadata.labels)
    for (const s of all('Service')) expect(s.spec.selector).toEqual(pod.metadata.labels)
  })

  it('carries deploy/prometheus-alerts.yml as its PrometheusRule', () => {
    expect(only('PrometheusRule').spec).toEqual({ groups: parse(readFileSync(ALERTS, 'utf8')).groups })
  })
})

// Without kubectl too: these read the files and ask the gateway.
describe('deploy/kubernetes, the files and the gateway they run', () => {
  it('uses every file in a kustomization, and has an overlay for each kustomization that is not a component', () => {
    const files = readdirSync(root, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name))
    const kustomizations = files.filter((file) => file.endsWith('/kustomization.yaml'))
    const used = new Set(kustomizations.flatMap((file) => {
      const k = parse(readFileSync(file, 'utf8'))
      const listed: string[] = [
        ...(k.resources ?? []), ...(k.components ?? []), ...(k.configurations ?? []),
        ...(k.patches ?? []).map((p: { path: string }) => p.path),
        ...[...(k.configMapGenerator ?? []), ...(k.secretGenerator ?? [])].flatMap((g: { envs?: string[], files?: string[] }) => [...(g.envs ?? []), ...(g.files ?? [])])
      ]
      return listed.map((path) => join(dirname(file), path))
    }))
    expect(files.filter((file) => !file.endsWith('/kustomization.yaml') && !used.has(file)).map((file) => relative(root, file))).toEqual([])
    const kinds = Object.fromEntries(kustomizations.map((file) => [relative(root, dirname(file)), parse(readFileSync(file, 'utf8')).kind]))
    expect(kinds).toEqual({
      base: 'Kustomization',
      'components/jwt-auth': 'Component',
      'components/prometheus-operator': 'Component',
      'overlays/replicated': 'Kustomization',
      'overlays/single': 'Kustomization'
    })
    // Every overlay is rendered above.
    expect(variants.filter((v) => !v.jwt).map((v) => v.name).sort()).toEqual(Object.keys(kinds).filter((dir) => dir.startsWith('overlays/')))
  })

  it('keeps the PrometheusRule generated from the alerts (node scripts/prometheus-rule.mjs writes it)', () => {
    expect(readFileSync(RULE, 'utf8')).toBe(prometheusRule(readFileSync(ALERTS, 'utf8')))
  })

  it('answers the probes\' route while Visual Layer does not answer its health check, which /health/ready reports', async () => {
    gw.emulator.injectFault({ path: '/api/v1/healthcheck', status: 503, times: 1 })
    expect((await gw.app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(503)
    expect((await gw.app.inject({ method: 'GET', url: '/health/live' })).json()).toEqual({ status: 'live' })
    expect((await gw.app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200)
  })

  it('is scraped at the ServiceMonitor\'s path with its bearer token, and refuses a scrape without it', async () => {
    const url = `http://127.0.0.1:${(gw.app.metricsServer?.address() as AddressInfo).port}/metrics`
    const scraped = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
    expect([scraped.status, (await scraped.text()).includes('vlgw_operations_total')]).toEqual([200, true])
    const refused = await fetch(url)
    await refused.body?.cancel()
    expect(refused.status).toBe(401)
  })
})

describe('the schema check of rendered objects (kubernetes-models)', () => {
  it('refuses a field of the wrong type, an object without a required field, and a kind it has no schema for', () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'gw' },
      spec: { selector: { matchLabels: { app: 'gw' } }, template: { spec: { containers: [{ name: 'gw', image: 'gw:1', ports: [{ containerPort: 'http' }] }] } } }
    }
    expect(schemaProblemsOf(deployment)).toEqual(['Deployment/gw schema: data/spec/template/spec/containers/0/ports/0/containerPort must be integer'])
    expect(schemaProblemsOf({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'gw' }, spec: { ports: [{ targetPort: 4000 }] } }))
      .toEqual(['Service/gw schema: data/spec/ports/0 must have required property port'])
    expect(schemaProblemsOf({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'gw' } })).toEqual(['Pod/gw schema: no schema for this kind here'])
  })
})
