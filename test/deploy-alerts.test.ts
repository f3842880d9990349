import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'

/**
 * deploy/prometheus-alerts.yml parses and each rule has what Prometheus needs; the alerts and the
 * Grafana dashboard name only metrics the gateway exports (src/plugins/metrics.ts).
 */

interface Rule { alert?: unknown, expr?: unknown, for?: unknown, labels?: Record<string, unknown>, annotations?: Record<string, unknown> }

const EXPORTED = [
  'graphql_operations_total', 'graphql_operation_duration_seconds_bucket', 'queries_rejected_total', 'rate_limited_total',
  'visual_layer_requests_total', 'visual_layer_request_duration_seconds_bucket', 'visual_layer_retries_total', 'visual_layer_shared_reads_total',
  'visual_layer_breaker_state', 'visual_layer_breaker_transitions_total', 'websocket_connections', 'subscriptions', 'pollers', 'polls_total',
  'redis_degraded', 'redis_timeouts_total'
]

describe('deploy/prometheus-alerts.yml', () => {
  const file = parse(readFileSync(new URL('../deploy/prometheus-alerts.yml', import.meta.url), 'utf8')) as { groups: Array<{ name: string, rules: Rule[] }> }

  it('holds the breaker, upstream error ratio, p99 latency and Redis degraded alerts, each with expr, for, severity and a summary', () => {
    const rules = file.groups.flatMap((group) => group.rules)
    expect(rules.map((rule) => rule.alert)).toEqual(['VisualLayerBreakerOpen', 'VisualLayerErrorRatioHigh', 'GraphQLLatencyP99High', 'RedisDegraded'])
    for (const rule of rules) {
      expect(typeof rule.expr).toBe('string')
      expect(rule.for).toMatch(/^\d+[smh]$/)
      expect(['warning', 'critical']).toContain(rule.labels?.severity)
      expect(typeof rule.annotations?.summary).toBe('string')
      const metrics = [...String(rule.expr).matchAll(/\b(visual_layer_\w+|graphql_\w+|redis_\w+)\b/g)].map(([name]) => name)
      expect(metrics.length).toBeGreaterThan(0)
      for (const metric of metrics) expect(EXPORTED).toContain(metric)
    }
  })
})

describe('deploy/grafana-dashboard.json', () => {
  it('queries only metrics the gateway exports', () => {
    const dashboard = JSON.parse(readFileSync(new URL('../deploy/grafana-dashboard.json', import.meta.url), 'utf8')) as { panels: Array<{ targets: Array<{ expr: string }> }> }
    const exprs = dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr))
    expect(exprs.length).toBeGreaterThan(10)
    const named = new Set(exprs.flatMap((expr) => [...expr.replace(/\{[^}]*\}/g, '').matchAll(/\b([a-z_]+)(?=\[|\)|$|\s*\/)/g)].map(([, name]) => name)))
    for (const name of named) if (name !== undefined && name.includes('_')) expect(EXPORTED).toContain(name)
  })
})
