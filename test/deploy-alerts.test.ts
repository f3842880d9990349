import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { GatewayMetrics } from '../src/plugins/metrics.js'

/**
 * deploy/prometheus-alerts.yml parses and each rule has what Prometheus needs; the alerts and the
 * Grafana dashboard name only metrics the gateway exports: the names are read from a registry of
 * src/plugins/metrics.ts (the Redis gauge included, which exists with REDIS_URL), not from a list.
 */

interface Rule { alert?: unknown, expr?: unknown, for?: unknown, labels?: Record<string, unknown>, annotations?: Record<string, unknown> }
interface Target { expr: string }
interface Panel { type: string, title: string, targets?: Target[] }
interface Variable { name: string, query: string | { query: string } }

/** Every series name a scrape of the gateway can hold (a histogram's as _bucket, _sum and _count), and Prometheus' own `up`. */
async function exported (): Promise<Set<string>> {
  const metrics = new GatewayMetrics()
  metrics.watchRedis(() => false)
  metrics.watchWebhooks(async () => ({ pending: 0, oldestAgeMs: null, disabled: 0 }))
  const names = new Set(['up'])
  for (const { name, type } of await metrics.registry.getMetricsAsJSON()) {
    // prom-client's JSON holds the type's name (its types say a numeric enum).
    if ((type as unknown as string) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix)
    else names.add(name)
  }
  return names
}

const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset'])

/** The metric names a PromQL expression reads: what is left once label matchers, ranges, strings, grouping and functions are taken out. */
function metricsOf (expr: string): string[] {
  const bare = expr
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/"(?:[^"\\]|\\.)*"/g, ' ')
    .replace(/\b(?:by|without|on|ignoring)\s*\([^)]*\)/g, ' ')
  return [...bare.matchAll(/\b([a-zA-Z_:][\w:]*)\b(?!\s*\()/g)].map(([, name]) => name ?? '').filter((name) => !PROMQL_WORDS.has(name))
}

describe('deploy/prometheus-alerts.yml', () => {
  const file = parse(readFileSync(new URL('../deploy/prometheus-alerts.yml', import.meta.url), 'utf8')) as { groups: Array<{ name: string, rules: Rule[] }> }
  const rules = file.groups.flatMap((group) => group.rules)

  it('holds the scrape target, breaker, upstream error ratio, p99 latency, REST 5xx, shedding, Redis and webhook backlog alerts, each with expr, for, severity and a summary', async () => {
    expect(rules.map((rule) => rule.alert)).toEqual([
      'GatewayTargetMissing', 'VisualLayerBreakerOpen', 'VisualLayerErrorRatioHigh', 'GraphQLLatencyP99High', 'RestServerErrors', 'GatewayShedding', 'RedisDown',
      'WebhookBacklogGrowing'
    ])
    const names = await exported()
    for (const rule of rules) {
      expect(typeof rule.expr).toBe('string')
      expect(rule.for).toMatch(/^\d+[smh]$/)
      expect(['warning', 'critical']).toContain(rule.labels?.severity)
      expect(typeof rule.annotations?.summary).toBe('string')
      const metrics = metricsOf(String(rule.expr))
      expect(metrics.length).toBeGreaterThan(0)
      for (const metric of metrics) expect(names, `${String(rule.alert)} reads ${metric}`).toContain(metric)
    }
  })

  it('alerts on an absent scrape target of the gateway\'s job, on REST 5xx, on shedding and on Redis down', () => {
    const expr = (alert: string): string => String(rules.find((rule) => rule.alert === alert)?.expr)
    expect(expr('GatewayTargetMissing')).toBe('absent(up{job="visual-layer-gateway"} == 1)')
    expect(expr('RestServerErrors')).toContain('http_route=~"/v1/.+", http_response_status_code=~"5.."')
    expect(expr('GatewayShedding')).toBe('max by (instance) (vlgw_load_shedding) == 1')
    expect(expr('RedisDown')).toBe('min by (instance) (vlgw_redis_up) == 0')
    expect(expr('WebhookBacklogGrowing')).toBe('max by (instance) (vlgw_webhook_oldest_pending_seconds) > 3600 and max by (instance) (delta(vlgw_webhook_queue_depth[30m])) > 0')
  })
})

describe('deploy/grafana-dashboard.json', () => {
  const dashboard = JSON.parse(readFileSync(new URL('../deploy/grafana-dashboard.json', import.meta.url), 'utf8')) as {
    panels: Panel[]
    templating: { list: Variable[] }
  }
  const targets = dashboard.panels.flatMap((panel) => panel.targets ?? [])

  it('queries only metrics the gateway exports, in its panels and its variables', async () => {
    expect(targets.length).toBeGreaterThan(10)
    const names = await exported()
    const variables = dashboard.templating.list.filter((variable) => typeof variable.query === 'object').map((variable) => (variable.query as { query: string }).query)
    const used = [...targets.map((target) => target.expr), ...variables.map((query) => query.replace(/^label_values\((.*),\s*\w+\)$/, '$1'))].flatMap(metricsOf)
    expect(used.length).toBeGreaterThan(targets.length)
    for (const name of used) expect(names, `the dashboard reads ${name}`).toContain(name)
  })

  it('has namespace, job and instance variables that every panel\'s query is filtered by', () => {
    expect(dashboard.templating.list.map((variable) => variable.name)).toEqual(['datasource', 'namespace', 'job', 'instance'])
    for (const { expr } of targets) {
      expect(expr).toContain('namespace=~"$namespace", job=~"$job"')
      // The scrape targets panel reads `up` by job: an instance that is gone is what it shows.
      if (!expr.includes('up{')) expect(expr).toContain('instance=~"$instance"')
    }
  })

  it('has panels for REST and for live status', () => {
    const rows = dashboard.panels.filter((panel) => panel.type === 'row').map((panel) => panel.title)
    expect(rows).toEqual(['Operations (every transport)', 'HTTP (every door)', 'REST /v1', 'Visual Layer', 'Live', 'Health'])
    const exprs = targets.map((target) => target.expr).join('\n')
    for (const piece of ['transport="rest"', 'http_route=~"/v1/.+"', 'vlgw_sse_streams', 'vlgw_websocket_connections', 'vlgw_subscriptions', 'vlgw_live_pollers', 'vlgw_load_shedding', 'vlgw_redis_up']) {
      expect(exprs).toContain(piece)
    }
  })
})
