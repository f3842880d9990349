import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'
import { GatewayMetrics } from '../../src/plugins/metrics.js'

/** docs/operating.md's table of metrics names each metric the gateway makes (the process' defaults apart), with its type and labels, and no other. */
it('docs/operating.md lists every metric of the gateway with its type and labels', async () => {
  const metrics = new GatewayMetrics()
  metrics.watchRedis(() => false)
  metrics.watchWebhooks(async () => ({ pending: 0, oldestAgeMs: null, disabled: 0 }))
  const made = (await metrics.registry.getMetricsAsJSON()).map((metric) => {
    const labels = new Set(metric.values.flatMap((value) => Object.keys(value.labels)).filter((label) => label !== 'le'))
    // Labels of series not recorded yet are read from the metric's declaration.
    const declared = (metrics.registry.getSingleMetric(metric.name) as unknown as { labelNames: string[] }).labelNames
    return `${metric.name} ${String(metric.type)} ${[...new Set([...declared, ...labels])].join(',')}`
  })
  const text = readFileSync(new URL('../../docs/operating.md', import.meta.url), 'utf8')
  const rows = [...text.matchAll(/^\| `((?:vlgw|http)_\w+)` \| (\w+) \|([^|]*)\|/gm)].map(([, name, type, labels]) =>
    `${name ?? ''} ${type ?? ''} ${[...(labels ?? '').matchAll(/`(\w+)`/g)].map(([, label]) => label).join(',')}`)
  expect(rows.sort()).toEqual(made.sort())
})
