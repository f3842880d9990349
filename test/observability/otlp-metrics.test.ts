import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
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
      // Every metric of the registry that has a series, once.
      expect([...exported.keys()].sort()).toEqual((await metrics.registry.getMetricsAsJSON()).filter(({ values }) => values.length > 0).map(({ name }) => ({
        http_server_request_duration_seconds: 'http.server.request.duration',
        http_client_request_duration_seconds: 'http.client.request.duration'
      })[name] ?? name.replace(/_total$/, '')).sort())
    } finally {
      await running.shutdown()
    }
  })

  it('posts them to <OTEL_EXPORTER_OTLP_ENDPOINT>/v1/metrics as OTLP http/protobuf', async () => {
    const received: Array<{ method?: string, url?: string, type?: string, body: Buffer }> = []
    const collector = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => { chunks.push(chunk) })
      req.on('end', () => {
        received.push({ method: req.method, url: req.url, type: req.headers['content-type'], body: Buffer.concat(chunks) })
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end()
      })
    })
    await new Promise<void>((resolve) => { collector.listen(0, '127.0.0.1', resolve) })
    const metrics = new GatewayMetrics()
    metrics.operation({ transport: 'websocket', type: 'query', name: 'DatasetPage', outcome: 'ok', seconds: 0.01 })
    const running = startMetricsExport({ endpoint: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`, serviceName: 'gateway-under-test' }, metrics.registry)
    try {
      await running?.flush()
      expect(received.map(({ method, url, type }) => ({ method, url, type }))).toEqual([{ method: 'POST', url: '/v1/metrics', type: 'application/x-protobuf' }])
      // Protobuf keeps strings as they are: the service, the metrics' names and the attributes' values are in the body.
      const body = received[0]?.body.toString('latin1') ?? ''
      for (const text of ['gateway-under-test', 'vlgw_operations', 'vlgw_operation_duration_seconds', 'DatasetPage', 'websocket']) expect(body).toContain(text)
    } finally {
      await running?.shutdown()
      await new Promise((resolve) => { collector.close(resolve) })
    }
  })

  it('starts nothing without OTEL_EXPORTER_OTLP_ENDPOINT', () => {
    expect(startMetricsExport({ endpoint: null, serviceName: 'gateway' }, new GatewayMetrics().registry)).toBeNull()
  })
})
