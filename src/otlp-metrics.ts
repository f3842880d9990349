import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api'
import { hrTime } from '@opentelemetry/core'
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto'
import { resourceFromAttributes } from '@opentelemetry/resources'
import {
  AggregationTemporality, DataPointType, MeterProvider, PeriodicExportingMetricReader,
  type CollectionResult, type DataPoint, type Histogram, type MetricData, type MetricProducer, type PushMetricExporter
} from '@opentelemetry/sdk-metrics'
import type { MetricObjectWithValues, MetricValueWithName, Registry } from 'prom-client'
import type { TracingSettings } from './config.js'

/*
 * The gateway's metrics over OTLP, when OTEL_EXPORTER_OTLP_ENDPOINT is set (next to the spans of
 * otlp-traces.ts): every export interval (60 s), the app's prom-client registry is read and handed to the
 * OpenTelemetry SDK as a metric producer, which exports it (http/protobuf, `<endpoint>/v1/metrics`).
 * One set of instruments, counted once, is what both GET /metrics and OTLP show; recording each
 * increment through the OpenTelemetry API as well would write every metric twice and let the two
 * drift. The OpenTelemetry names come back where the semantic conventions define them
 * (`http_server_request_duration_seconds` is exported as `http.server.request.duration` with
 * `http.route`...); the gateway's own keep their Prometheus names, without the `_total` a Prometheus
 * fed over OTLP adds again. Summaries, which the gateway does not make, are not exported.
 */

/** Metrics the semantic conventions name, in their OpenTelemetry spelling. */
const SEMANTIC_NAMES: Readonly<Record<string, string>> = {
  http_server_request_duration_seconds: 'http.server.request.duration',
  http_client_request_duration_seconds: 'http.client.request.duration'
}

/** Attributes the semantic conventions name, in their OpenTelemetry spelling. */
const SEMANTIC_ATTRIBUTES: Readonly<Record<string, string>> = {
  http_request_method: 'http.request.method',
  http_route: 'http.route',
  http_response_status_code: 'http.response.status_code',
  url_template: 'url.template',
  server_address: 'server.address',
  error_type: 'error.type'
}

type Labels = Partial<Record<string, string | number>>

/** A sample's labels as attributes: the conventions' spelling, and no empty one (Prometheus reads "" as absent). */
function attributesOf (labels: Labels, except?: string): Attributes {
  const attributes: Attributes = {}
  for (const [name, value] of Object.entries(labels)) {
    if (name === except || value === undefined || value === '') continue
    const key = SEMANTIC_ATTRIBUTES[name] ?? name
    attributes[key] = key === 'http.response.status_code' ? Number(value) : value
  }
  return attributes
}

/** The cumulative `le` buckets of each label set of a prom-client histogram, as OpenTelemetry's per-bucket counts. */
function histogramPoints (values: Array<MetricValueWithName<string>>, name: string, startTime: HrTime, endTime: HrTime): Array<DataPoint<Histogram>> {
  const series = new Map<string, { attributes: Attributes, buckets: Array<[number, number]>, sum: number, count: number }>()
  for (const { metricName, labels, value } of values) {
    const attributes = attributesOf(labels, 'le')
    const key = JSON.stringify(Object.entries(attributes).sort(([a], [b]) => a.localeCompare(b)))
    let entry = series.get(key)
    if (entry === undefined) series.set(key, entry = { attributes, buckets: [], sum: 0, count: 0 })
    if (metricName === `${name}_sum`) entry.sum = value
    else if (metricName === `${name}_count`) entry.count = value
    else if (labels.le !== undefined && labels.le !== '+Inf') entry.buckets.push([Number(labels.le), value])
  }
  return [...series.values()].map(({ attributes, buckets, sum, count }) => {
    buckets.sort(([a], [b]) => a - b)
    const counts = buckets.map(([, cumulative], i) => cumulative - (i === 0 ? 0 : buckets[i - 1]?.[1] ?? 0))
    counts.push(count - (buckets.at(-1)?.[1] ?? 0))
    return { startTime, endTime, attributes, value: { buckets: { boundaries: buckets.map(([bound]) => bound), counts }, sum, count } }
  })
}

function metricData (metric: MetricObjectWithValues<MetricValueWithName<string>>, startTime: HrTime, endTime: HrTime): MetricData | null {
  // prom-client's types declare a numeric enum; its JSON holds the type's name.
  const type = metric.type as unknown as string
  const counter = type === 'counter'
  const descriptor = {
    name: SEMANTIC_NAMES[metric.name] ?? (counter ? metric.name.replace(/_total$/, '') : metric.name),
    description: metric.help,
    unit: metric.name.endsWith('_seconds') ? 's' : metric.name.endsWith('_bytes') ? 'By' : '',
    valueType: ValueType.DOUBLE
  }
  const aggregationTemporality = AggregationTemporality.CUMULATIVE
  const points = (): Array<DataPoint<number>> => metric.values.map(({ labels, value }) => ({ startTime, endTime, attributes: attributesOf(labels), value }))
  switch (type) {
    case 'counter': return { descriptor, aggregationTemporality, dataPointType: DataPointType.SUM, isMonotonic: true, dataPoints: points() }
    case 'gauge': return { descriptor, aggregationTemporality, dataPointType: DataPointType.GAUGE, dataPoints: points() }
    case 'histogram':
      return {
        descriptor, aggregationTemporality, dataPointType: DataPointType.HISTOGRAM, dataPoints: histogramPoints(metric.values, metric.name, startTime, endTime)
      }
    default: return null
  }
}

/** The registry as an OpenTelemetry metric producer: cumulative since `startTime` (the registry's counting began). */
export function registryProducer (registry: Registry, startTime: HrTime = hrTime()): MetricProducer {
  return {
    async collect (): Promise<CollectionResult> {
      const metrics = await registry.getMetricsAsJSON() as Array<MetricObjectWithValues<MetricValueWithName<string>>>
      const endTime = hrTime()
      return {
        // The reader keeps its provider's resource and takes only the scope metrics from here.
        resourceMetrics: {
          resource: resourceFromAttributes({}),
          scopeMetrics: [{
            scope: { name: 'visual-layer-gateway' },
            // A metric with no series yet (a labelled counter never incremented) is left out, as the SDK leaves out its own.
            metrics: metrics.map((metric) => metricData(metric, startTime, endTime))
              .filter((data): data is MetricData => data !== null && data.dataPoints.length > 0)
          }]
        },
        errors: []
      }
    }
  }
}

export interface MetricsExport {
  /** Exports a last time, then stops. */
  shutdown: () => Promise<void>
  /** Exports now (tests). */
  flush: () => Promise<void>
}

/** Exports `registry` through `exporter` every `intervalMs`. */
export function exportMetrics (registry: Registry, serviceName: string, exporter: PushMetricExporter, intervalMs = 60_000): MetricsExport {
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: intervalMs, metricProducers: [registryProducer(registry)] })
  const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': serviceName }), readers: [reader] })
  return {
    shutdown: async () => { await provider.shutdown() },
    flush: async () => { await provider.forceFlush() }
  }
}

/** With OTEL_EXPORTER_OTLP_ENDPOINT set: the app's metrics over OTLP (the other OTEL_EXPORTER_OTLP_* variables are the exporter's). */
export function startMetricsExport (settings: TracingSettings, registry: Registry): MetricsExport | null {
  if (settings.endpoint === null) return null
  return exportMetrics(registry, settings.serviceName, new OTLPMetricExporter({ url: `${settings.endpoint}/v1/metrics` }))
}
