import { readdirSync, readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { loadConfig, VARIABLE_NAMES } from '../../src/config.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'

/*
 * deploy/kubernetes/ cannot drift from the code: no cluster runs here, so this reads the manifests and
 * checks that the container's environment is a valid configuration of known variables, that the ports,
 * probes and scrape annotations point at what that configuration serves (asked of a running gateway),
 * that draining fits in the grace period, and that the Service, budget and autoscaler select the pods.
 */

const dir = new URL('../../deploy/kubernetes/', import.meta.url)
const files = readdirSync(dir).filter((name) => name.endsWith('.yaml')).sort()
const manifests = files.flatMap((file) => parseAllDocuments(readFileSync(new URL(file, dir), 'utf8')).map((doc) => ({ file, ...(doc.toJS() as any) })))
const kind = (name: string): any[] => manifests.filter((m) => m.kind === name)
const only = (name: string): any => {
  const found = kind(name)
  if (found.length !== 1) throw new Error(`expected one ${name}, found ${found.length}`)
  return found[0]
}

const deployment = only('Deployment')
const pod = deployment.spec.template
const container = pod.spec.containers[0]
const secret = only('Secret')
const portOf = (name: string): number => container.ports.find((p: any) => p.name === name).containerPort

// Variables the runtime reads rather than the gateway's configuration.
const RUNTIME = ['NODE_OPTIONS']
const env: Record<string, string> = Object.fromEntries(container.env.map((entry: any) => {
  const ref = entry.valueFrom?.secretKeyRef
  if (ref !== undefined) {
    // The Secret the manifests show as the example of what to create.
    expect([ref.name, Object.keys(secret.stringData)]).toEqual([secret.metadata.name, [ref.key]])
    return [entry.name, secret.stringData[ref.key]]
  }
  return [entry.name, entry.value]
}))
const gatewayEnv = Object.fromEntries(Object.entries(env).filter(([name]) => !RUNTIME.includes(name)))

let gw: TestGateway
beforeAll(async () => { gw = await startTestGateway({ METRICS_PORT: '0' }) })
afterAll(async () => { await gw.close() })

describe('deploy/kubernetes', () => {
  const config = loadConfig(gatewayEnv)

  it('applies every manifest but the example Secret', () => {
    expect(files).toEqual(['deployment.yaml', 'hpa.yaml', 'kustomization.yaml', 'networkpolicy.yaml', 'pdb.yaml', 'secret.example.yaml', 'service.yaml'])
    expect(only('Kustomization').resources).toEqual(['deployment.yaml', 'service.yaml', 'networkpolicy.yaml', 'pdb.yaml', 'hpa.yaml'])
  })

  it('sets only variables of the configuration, which load as one, with REDIS_URL from a Secret', () => {
    for (const name of Object.keys(gatewayEnv)) expect(VARIABLE_NAMES).toContain(name)
    expect(Object.keys(env).filter((name) => !(name in gatewayEnv))).toEqual(RUNTIME)
    expect(container.env.find((entry: any) => entry.name === 'REDIS_URL').value).toBeUndefined()
    expect(config.redis.url).toBe(secret.stringData['redis-url'])
    expect([config.upstream.kind, config.authMode, config.host]).toEqual(['remote', 'passthrough', '0.0.0.0'])
  })

  it('probes readiness and liveness on the real routes, on the port the gateway listens on', async () => {
    expect(portOf('http')).toBe(config.port)
    const probes = { readinessProbe: '/health/ready', livenessProbe: '/health/live', startupProbe: '/health/live' }
    for (const [probe, path] of Object.entries(probes)) {
      expect([probe, container[probe].httpGet]).toEqual([probe, { path, port: 'http' }])
      expect([path, (await gw.app.inject({ method: 'GET', url: path })).statusCode]).toEqual([path, 200])
    }
  })

  it('is scraped on METRICS_PORT at the path the metrics listener serves', async () => {
    const annotations = pod.metadata.annotations
    expect([portOf('metrics'), Number(annotations['prometheus.io/port'])]).toEqual([config.metricsPort, config.metricsPort])
    const port = (gw.app.metricsServer?.address() as AddressInfo).port
    const res = await fetch(`http://127.0.0.1:${port}${String(annotations['prometheus.io/path'])}`)
    expect([res.status, (await res.text()).includes('graphql_operations_total')]).toEqual([200, true])
  })

  it('keeps the metrics port off the Service, and lets only the monitoring namespace reach it (issue 22, item 16)', () => {
    // The Service publishes the API alone: the metrics listener has no authentication of its own (unless METRICS_TOKEN).
    expect(only('Service').spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http' }])
    const policy = only('NetworkPolicy')
    expect(policy.spec).toEqual({
      podSelector: { matchLabels: pod.metadata.labels },
      policyTypes: ['Ingress'],
      ingress: [
        // The API from anywhere the Service and the ingress controller send it.
        { ports: [{ port: 'http', protocol: 'TCP' }] },
        // Metrics only from Prometheus' namespace (kubernetes.io/metadata.name is set on every namespace).
        { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }], ports: [{ port: 'metrics', protocol: 'TCP' }] }
      ]
    })
    // Scraped by pod (annotations), so no Service needs the port; without a token, as the policy is the guard.
    expect(pod.metadata.annotations['prometheus.io/scrape']).toBe('true')
    expect(env.METRICS_TOKEN).toBeUndefined()
  })

  it('drains within the grace period: preStop delay, then SHUTDOWN_TIMEOUT_MS, with room to spare', () => {
    const [command, delay] = container.lifecycle.preStop.exec.command
    expect(command).toBe('sleep')
    expect(Number(delay)).toBeGreaterThanOrEqual(5)
    expect(Number(delay) + config.shutdownTimeoutMs / 1000 + 5).toBeLessThanOrEqual(pod.spec.terminationGracePeriodSeconds)
  })

  it('runs as a non-root user without privileges, with requests and limits that fit the heap settings', () => {
    expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 })
    expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } })
    const mib = (quantity: string): number => Number(/^(\d+)(Mi|Gi)$/.exec(quantity)?.[1]) * (quantity.endsWith('Gi') ? 1024 : 1)
    expect(container.resources.requests).toEqual(container.resources.limits)
    const heapMib = Number(/--max-old-space-size=(\d+)/.exec(env.NODE_OPTIONS ?? '')?.[1])
    expect(heapMib).toBeLessThan(mib(container.resources.limits.memory))
    expect(config.loadShedding.maxHeapUsedBytes).toBeGreaterThan(0)
    expect(config.loadShedding.maxHeapUsedBytes).toBeLessThan(heapMib * 1024 * 1024)
  })

  it('selects the pods from the Service, the disruption budget and the autoscaler', () => {
    const labels = pod.metadata.labels
    expect(deployment.spec.selector.matchLabels).toEqual(labels)
    const service = only('Service')
    expect(service.spec.selector).toEqual(labels)
    for (const port of service.spec.ports) expect(container.ports.map((p: any) => p.name)).toContain(port.targetPort)
    const budget = only('PodDisruptionBudget')
    expect(budget.spec.selector.matchLabels).toEqual(labels)
    const autoscaler = only('HorizontalPodAutoscaler')
    expect(autoscaler.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name })
    // The autoscaler owns the count: a count in the Deployment would reset it at every apply.
    expect(deployment.spec.replicas).toBeUndefined()
    // A drain may take one pod when the autoscaler holds its fewest: at least two stay.
    expect(autoscaler.spec.minReplicas - budget.spec.maxUnavailable).toBeGreaterThanOrEqual(2)
    expect(autoscaler.spec.maxReplicas).toBeGreaterThan(autoscaler.spec.minReplicas)
    expect(container.resources.requests.cpu).toBeDefined()
  })
})
