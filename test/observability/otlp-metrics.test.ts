import { AggregationTemporality, DataPointType, InMemoryMetricExporter, type MetricData } from '@opentelemetry/sdk-metrics'
import { describe, expect, it } from 'vitest'
import { exportMetrics, startMetricsExport } from '../../src/otlp-metrics.js'
import { GatewayMetrics } from '../../src/plugins/metrics.js'

/*
 * OTLP metrics read the same registry as GET /metrics (src/otlp-metrics.ts): each prom-client
 * counter, gauge and histogram reaches the exporter once, cumulative, the semantic conventions'
 * metrics under their OpenTelemetry names and attributes, histogram buckets as per-bucket counts.
 */

describe('OTLP metrics export', () => {
  it('exports the registry: conventions\' names and attributes, counters without _total, buckets per bucket', async () => {
    const metrics = new GatewayMetrics()
    const observer = metrics.upstreamObserver('vl.example')
    observer.request('/api/v1/datasets', 'GET', { status: 200, error: null }, 0.02)
    observer.request('/api/v1/datasets', 'GET', { status: 503, error: '503' }, 0.3)
    observer.request('/api/v1/datasets', 'GET', { status: 200, error: null }, 0.04)
    metrics.operation({ transport: 'rest', type: 'query', name: 'listDatasets', outcome: 'ok', seconds: 0.05 })
    metrics.watchShedding(() => true)

    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
    const running = exportMetrics(metrics.registry, 'gateway-under-test', exporter, 3_600_000)
    try {
      await running.flush()
      const [batch] = exporter.getMetrics()
      expect(batch?.resource.attributes['service.name']).toBe('gateway-under-test')
      const exported = new Map<string, MetricData>(batch?.scopeMetrics.flatMap((scope) => scope.metrics).map((metric) => [metric.descriptor.name, metric]))

      const client = exported.get('http.client.request.duration')
      expect([client?.dataPointType, client?.descriptor.unit, client?.aggregationTemporality]).toEqual([DataPointType.HISTOGRAM, 's', AggregationTemporality.CUMULATIVE])
      const points = client?.dataPoints.map(({ attributes, value }) => ({ attributes, value })) ?? []
      expect(points.sort((a, b) => String(a.attributes['error.type']).localeCompare(String(b.attributes['error.type'])))).toEqual([
        {
          attributes: { 'http.request.method': 'GET', 'url.template': '/api/v1/datasets', 'server.address': 'vl.example', 'http.response.status_code': 503, 'error.type': '503' },
          value: { buckets: { boundaries: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], counts: [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0] }, sum: 0.3, count: 1 }
        },
        {
          // No error.type on a success: Prometheus' empty label is no attribute.
          attributes: { 'http.request.method': 'GET', 'url.template': '/api/v1/datasets', 'server.address': 'vl.example', 'http.response.status_code': 200 },
          value: { buckets: { boundaries: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], counts: [0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0] }, sum: 0.06, count: 2 }
        }
      ])

      const operations = exported.get('vlgw_operations')
      expect([operations?.dataPointType, operations?.dataPointType === DataPointType.SUM && operations.isMonotonic]).toEqual([DataPointType.SUM, true])
      expect(operations?.dataPoints.map(({ attributes, value }) => ({ attributes, value }))).toEqual([
        { attributes: { transport: 'rest', operation_type: 'query', operation_name: 'listDatasets', outcome: 'ok' }, value: 1 }
      ])
      const shedding = exported.get('vlgw_load_shedding')
      expect([shedding?.dataPointType, shedding?.dataPoints.map(({ value }) => value)]).toEqual([DataPointType.GAUGE, [1]])
      // Every metric of the registry, once.
      expect([...exported.keys()].sort()).toEqual((await metrics.registry.getMetricsAsJSON()).map(({ name }) => ({
        http_server_request_duration_seconds: 'http.server.request.duration',
        http_client_request_duration_seconds: 'http.client.request.duration'
      })[name] ?? name.replace(/_total$/, '')).sort())
    } finally {
      await running.shutdown()
    }
  })

  it('starts nothing without OTEL_EXPORTER_OTLP_ENDPOINT', () => {
    expect(startMetricsExport({ endpoint: null, serviceName: 'gateway' }, new GatewayMetrics().registry)).toBeNull()
  })
})
