import { context, propagation, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace'
import type { TracingSettings } from './config.js'

/*
 * The OpenTelemetry SDK of the process, started by the entry point (src/server.ts) when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set: spans are batched and exported over OTLP (http/protobuf, the
 * protocol's default, port 4318 of a Collector or of Jaeger) to `<endpoint>/v1/traces`. The other
 * standard OTEL_EXPORTER_OTLP_* variables (headers, timeout, compression) are read by the exporter
 * itself. Registering sets the global tracer provider, the W3C trace-context propagator and the
 * async-local-storage context manager that the gateway's spans use through @opentelemetry/api.
 * Tracer providers are process-wide, hence here and not in buildApp.
 *
 * Only trace context is propagated: the SDK's default also reads and forwards W3C `baggage`, which a
 * caller writes at will and Visual Layer must not receive from the gateway.
 */

/**
 * Registers `provider` as the process' tracer provider, propagating W3C trace context only (no baggage).
 * SDK 3 has no `NodeTracerProvider.register()`: the three globals it would set are set here.
 */
export function registerTracerProvider (provider: TracerProvider): void {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  propagation.setGlobalPropagator(new W3CTraceContextPropagator())
  trace.setGlobalTracerProvider(provider)
}

export interface Tracing {
  /** Exports the spans still buffered, then stops. */
  shutdown: () => Promise<void>
}

export function startTracing (settings: TracingSettings): Tracing | null {
  if (settings.endpoint === null) return null
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': settings.serviceName }),
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${settings.endpoint}/v1/traces` }) })]
  })
  registerTracerProvider(provider)
  return { shutdown: async () => { await provider.shutdown() } }
}
