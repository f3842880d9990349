import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node'
import type { TracingSettings } from './config.js'

/*
 * The OpenTelemetry SDK of the process, started by the entry point (src/server.ts) when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set: spans are batched and exported over OTLP (http/protobuf, the
 * protocol's default, port 4318 of a Collector or of Jaeger) to `<endpoint>/v1/traces`. The other
 * standard OTEL_EXPORTER_OTLP_* variables (headers, timeout, compression) are read by the exporter
 * itself. Registering sets the global tracer provider, the W3C trace-context propagator and the
 * async-local-storage context manager that the gateway's spans use through @opentelemetry/api.
 * Tracer providers are process-wide, hence here and not in buildApp.
 */

export interface Tracing {
  /** Exports the spans still buffered, then stops. */
  shutdown: () => Promise<void>
}

export function startTracing (settings: TracingSettings): Tracing | null {
  if (settings.endpoint === null) return null
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': settings.serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${settings.endpoint}/v1/traces` }))]
  })
  provider.register()
  return { shutdown: async () => { await provider.shutdown() } }
}
