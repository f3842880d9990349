import { ConfigMap, Secret, Service } from 'kubernetes-models/v1'
import { Deployment } from 'kubernetes-models/apps/v1'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2'
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1'
import { PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1'

/*
 * What the Kubernetes API server would refuse in the objects test/deploy/kubernetes.test.ts renders, for the
 * kinds deploy/kubernetes uses. Two checks, with no cluster: each object against its kind's schema, from the
 * Kubernetes OpenAPI document (kubernetes-models, and @kubernetes-models/prometheus-operator for the
 * Operator's kinds: types, enums, required fields, formats; a field of an unknown name is not refused
 * there), and rules written down from the API reference that the schemas do not hold: the API version of
 * each kind, names, labels, ports, keys and quantities in the formats the API validates.
 */

type Obj = Record<string, any>

/** Each kind's model: its `validate()` throws naming the first field its schema refuses. */
const MODELS: Readonly<Record<string, new (object: any) => { validate: () => void }>> = {
  ConfigMap, Secret, Service, Deployment, Ingress, NetworkPolicy, HorizontalPodAutoscaler, PodDisruptionBudget, ServiceMonitor, PrometheusRule
}

/** What the kind's schema refuses in `object` ("<kind>/<name> schema: <what>"), or none. */
export function schemaProblemsOf (object: Obj): string[] {
  const Model = MODELS[String(object.kind)]
  const where = `${String(object.kind)}/${String(object.metadata?.name)}`
  if (Model === undefined) return [`${where} schema: no schema for this kind here`]
  try {
    new Model(object).validate()
    return []
  } catch (err) {
    return [`${where} schema: ${err instanceof Error ? err.message : String(err)}`]
  }
}

/** The API version of each kind, as served by Kubernetes 1.25 and later (and by the Prometheus Operator). */
export const API_VERSIONS: Readonly<Record<string, string>> = {
  ConfigMap: 'v1',
  Secret: 'v1',
  Service: 'v1',
  Deployment: 'apps/v1',
  Ingress: 'networking.k8s.io/v1',
  NetworkPolicy: 'networking.k8s.io/v1',
  HorizontalPodAutoscaler: 'autoscaling/v2',
  PodDisruptionBudget: 'policy/v1',
  ServiceMonitor: 'monitoring.coreos.com/v1',
  PrometheusRule: 'monitoring.coreos.com/v1'
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/
const QUALIFIED_NAME = /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/
const DATA_KEY = /^[-._a-zA-Z0-9]{1,253}$/
// IANA_SVC_NAME: at most 15 lower-case letters, digits and inner dashes, with a letter, no "--".
const PORT_NAME = /^(?!.*--)[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$/
const QUANTITY = /^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/

/** Each problem as "<kind>/<name> <path>: <what>"; none for a valid object. */
export function problemsOf (object: Obj): string[] {
  const problems: string[] = []
  const where = `${String(object.kind)}/${String(object.metadata?.name)}`
  const fail = (path: string, what: string): void => { problems.push(`${where} ${path}: ${what}`) }
  const required = (value: unknown, path: string): boolean => {
    const present = value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0)
    if (!present) fail(path, 'required')
    return present
  }
  const matches = (value: unknown, pattern: RegExp, path: string): void => {
    if (typeof value !== 'string' || !pattern.test(value)) fail(path, `${JSON.stringify(value)} does not match ${String(pattern)}`)
  }
  const port = (value: unknown, path: string): void => {
    if (typeof value === 'number') {
      if (!Number.isInteger(value) || value < 1 || value > 65535) fail(path, `${value} is not a port number`)
    } else if (!(typeof value === 'string' && PORT_NAME.test(value) && /[a-z]/.test(value))) fail(path, `${JSON.stringify(value)} is neither a port number nor a port name`)
  }
  const labels = (map: Obj | undefined, path: string): void => {
    for (const [key, value] of Object.entries(map ?? {})) {
      matches(key, QUALIFIED_NAME, `${path}.${key}`)
      matches(value, LABEL_VALUE, `${path}.${key}`)
    }
  }
  const selector = (value: Obj | undefined, path: string): void => {
    if (required(value, path)) labels(value?.matchLabels, `${path}.matchLabels`)
  }

  if (object.apiVersion !== API_VERSIONS[object.kind as string]) fail('apiVersion', `${String(object.apiVersion)} for ${String(object.kind)}, expected ${API_VERSIONS[object.kind as string] ?? 'a kind deploy/kubernetes uses'}`)
  if (required(object.metadata?.name, 'metadata.name')) matches(object.metadata.name, DNS_SUBDOMAIN, 'metadata.name')
  labels(object.metadata?.labels, 'metadata.labels')
  const spec: Obj = object.spec ?? {}

  switch (object.kind) {
    case 'ConfigMap':
    case 'Secret':
      for (const [key, value] of Object.entries<unknown>(object.data ?? {})) {
        matches(key, DATA_KEY, `data.${key}`)
        if (typeof value !== 'string') fail(`data.${key}`, 'not a string')
        else if (object.kind === 'Secret' && Buffer.from(value, 'base64').toString('base64') !== value) fail(`data.${key}`, 'not base64')
      }
      break
    case 'Service':
      if (required(spec.ports, 'spec.ports')) {
        spec.ports.forEach((p: Obj, i: number) => {
          if (required(p.port, `spec.ports[${i}].port`)) port(p.port, `spec.ports[${i}].port`)
          if (p.targetPort !== undefined) port(p.targetPort, `spec.ports[${i}].targetPort`)
          if (spec.ports.length > 1) required(p.name, `spec.ports[${i}].name`)
        })
      }
      labels(spec.selector, 'spec.selector')
      break
    case 'Deployment': {
      selector(spec.selector, 'spec.selector')
      if (!required(spec.template, 'spec.template')) break
      const template: Obj = spec.template
      for (const [key, value] of Object.entries<unknown>(spec.selector?.matchLabels ?? {})) {
        if (template.metadata?.labels?.[key] !== value) fail('spec.template.metadata.labels', `does not match spec.selector (${key})`)
      }
      const pod: Obj = template.spec ?? {}
      const volumes = new Set<string>((pod.volumes ?? []).map((v: Obj) => v.name))
      ;(pod.volumes ?? []).forEach((v: Obj, i: number) => { if (required(v.name, `volumes[${i}].name`)) matches(v.name, DNS_LABEL, `volumes[${i}].name`) })
      if (!required(pod.containers, 'spec.template.spec.containers')) break
      pod.containers.forEach((c: Obj, i: number) => {
        const at = `containers[${i}]`
        if (required(c.name, `${at}.name`)) matches(c.name, DNS_LABEL, `${at}.name`)
        required(c.image, `${at}.image`)
        ;(c.ports ?? []).forEach((p: Obj, j: number) => {
          if (required(p.containerPort, `${at}.ports[${j}].containerPort`)) port(p.containerPort, `${at}.ports[${j}].containerPort`)
          if (p.name !== undefined) port(p.name, `${at}.ports[${j}].name`)
        })
        ;(c.env ?? []).forEach((e: Obj, j: number) => { required(e.name, `${at}.env[${j}].name`) })
        ;(c.envFrom ?? []).forEach((e: Obj, j: number) => { required(e.configMapRef?.name ?? e.secretRef?.name, `${at}.envFrom[${j}]`) })
        ;(c.volumeMounts ?? []).forEach((m: Obj, j: number) => {
          required(m.mountPath, `${at}.volumeMounts[${j}].mountPath`)
          if (!volumes.has(m.name)) fail(`${at}.volumeMounts[${j}].name`, `no volume ${String(m.name)}`)
        })
        for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
          if (c[probe]?.httpGet !== undefined && required(c[probe].httpGet.port, `${at}.${probe}.httpGet.port`)) port(c[probe].httpGet.port, `${at}.${probe}.httpGet.port`)
        }
        for (const kind of ['requests', 'limits']) {
          for (const [resource, quantity] of Object.entries<unknown>(c.resources?.[kind] ?? {})) matches(quantity, QUANTITY, `${at}.resources.${kind}.${resource}`)
        }
      })
      break
    }
    case 'Ingress':
      (spec.rules ?? []).forEach((rule: Obj, i: number) => {
        if (!required(rule.http?.paths, `spec.rules[${i}].http.paths`)) return
        rule.http.paths.forEach((p: Obj, j: number) => {
          const at = `spec.rules[${i}].http.paths[${j}]`
          if (!['Exact', 'Prefix', 'ImplementationSpecific'].includes(p.pathType)) fail(`${at}.pathType`, `${JSON.stringify(p.pathType)} is not Exact, Prefix or ImplementationSpecific`)
          if (typeof p.path !== 'string' || !p.path.startsWith('/')) fail(`${at}.path`, 'must start with /')
          if (required(p.backend?.service?.name, `${at}.backend.service.name`)) {
            const servicePort: Obj = p.backend.service.port ?? {}
            if ((servicePort.name === undefined) === (servicePort.number === undefined)) fail(`${at}.backend.service.port`, 'needs a name or a number')
          }
        })
      })
      for (const [key, value] of Object.entries<unknown>(object.metadata?.annotations ?? {})) {
        matches(key, QUALIFIED_NAME, `metadata.annotations.${key}`)
        if (typeof value !== 'string') fail(`metadata.annotations.${key}`, 'not a string')
      }
      break
    case 'NetworkPolicy':
      required(spec.podSelector, 'spec.podSelector')
      for (const direction of ['ingress', 'egress']) {
        (spec[direction] ?? []).forEach((rule: Obj, i: number) => {
          (rule.ports ?? []).forEach((p: Obj, j: number) => { port(p.port, `spec.${direction}[${i}].ports[${j}].port`) })
        })
      }
      break
    case 'HorizontalPodAutoscaler':
      required(spec.scaleTargetRef?.kind, 'spec.scaleTargetRef.kind')
      required(spec.scaleTargetRef?.name, 'spec.scaleTargetRef.name')
      required(spec.maxReplicas, 'spec.maxReplicas')
      ;(spec.metrics ?? []).forEach((m: Obj, i: number) => {
        required(m.type, `spec.metrics[${i}].type`)
        if (m.type === 'Resource') {
          required(m.resource?.name, `spec.metrics[${i}].resource.name`)
          required(m.resource?.target?.type, `spec.metrics[${i}].resource.target.type`)
        }
      })
      break
    case 'PodDisruptionBudget':
      if ((spec.minAvailable === undefined) === (spec.maxUnavailable === undefined)) fail('spec', 'needs minAvailable or maxUnavailable, not both')
      selector(spec.selector, 'spec.selector')
      break
    case 'ServiceMonitor':
      selector(spec.selector, 'spec.selector')
      ;(spec.endpoints ?? []).forEach((e: Obj, i: number) => {
        if (e.authorization !== undefined) {
          required(e.authorization.credentials?.name, `spec.endpoints[${i}].authorization.credentials.name`)
          required(e.authorization.credentials?.key, `spec.endpoints[${i}].authorization.credentials.key`)
        }
      })
      break
    case 'PrometheusRule':
      (spec.groups ?? []).forEach((group: Obj, i: number) => {
        required(group.name, `spec.groups[${i}].name`)
        ;(group.rules ?? []).forEach((rule: Obj, j: number) => {
          required(rule.expr, `spec.groups[${i}].rules[${j}].expr`)
          if ((rule.alert === undefined) === (rule.record === undefined)) fail(`spec.groups[${i}].rules[${j}]`, 'needs alert or record, not both')
        })
      })
      break
  }
  return problems
}
