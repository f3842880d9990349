import { context, propagation, trace, SpanKind } from '@opentelemetry/api'
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SEED, startEmulator, type RunningEmulator } from '../../src/emulator/index.js'
import { registerTracerProvider } from '../../src/otlp-traces.js'
import { startGatewayOn, TEST_START, type TestGateway } from '../helpers/gateway.js'
import { when } from '../helpers/wait.js'

/** The in-memory exporter, telling its watchers of each batch of spans it is given. */
class WatchedExporter extends InMemorySpanExporter {
  private readonly watchers = new Set<(batch: undefined) => void>()
  readonly watch = (listener: (batch: undefined) => void): (() => void) => {
    this.watchers.add(listener)
    return () => { this.watchers.delete(listener) }
  }

  override export (spans: ReadableSpan[], done: Parameters<InMemorySpanExporter['export']>[1]): void {
    super.export(spans, done)
    for (const listener of [...this.watchers]) listener(undefined)
  }
}

/**
 * Traces with OTEL_EXPORTER_OTLP_ENDPOINT set, collected by the SDK's in-memory exporter (registered
 * here as src/otlp-traces.ts registers the OTLP one): the span tree of one query that makes two Visual
 * Layer calls, under the caller's own trace, and the `traceparent` each call carried to Visual Layer.
 */

const FRONTEND_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'
const FRONTEND_SPAN = '00f067aa0ba902b7'
const READY = SEED.datasets.ready

interface Node { name: string, kind: SpanKind, children: Node[] }

/** The spans under `parentId` (a span id), as a tree of names and kinds, children in start order. */
function tree (spans: readonly ReadableSpan[], parentId: string): Node[] {
  return spans
    .filter((span) => span.parentSpanContext?.spanId === parentId)
    .sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1])
    .map((span) => ({ name: span.name, kind: span.kind, children: tree(spans, span.spanContext().spanId) }))
}

describe('OpenTelemetry traces', () => {
  const exporter = new WatchedExporter()
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] })
  let gw: TestGateway
  let emulator: RunningEmulator

  beforeAll(async () => {
    // As src/otlp-traces.ts registers the OTLP one.
    registerTracerProvider(provider)
    // It keeps every request header: what the gateway forwards to Visual Layer is checked exactly.
    emulator = await startEmulator({ clock: TEST_START, recordHeaders: true })
    // Never contacted: the provider registered above is the one spans go to.
    gw = await startGatewayOn(emulator, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })
  })
  afterAll(async () => {
    await gw.close()
    await emulator.close()
    await provider.shutdown()
    trace.disable()
    context.disable()
    propagation.disable()
  })

  it('continues the caller\'s trace through the operation, its resolvers and each Visual Layer call, and sends traceparent upstream', async () => {
    const res = await gw.gql('query DatasetWithModels($id: ID!) { dataset(id: $id) { id models { id } } }', { id: READY }, {
      traceparent: `00-${FRONTEND_TRACE}-${FRONTEND_SPAN}-01`
    })
    expect(res.status).toBe(200)
    expect(res.body.errors).toBeUndefined()
    // The operation's span ends once the answer is sent, after the client may have read it.
    await when('the operation\'s span', exporter.watch, () => exporter.getFinishedSpans().some((span) => span.name === 'query DatasetWithModels'))

    const spans = exporter.getFinishedSpans()
    expect(new Set(spans.map((span) => span.spanContext().traceId))).toEqual(new Set([FRONTEND_TRACE]))
    expect(tree(spans, FRONTEND_SPAN)).toEqual([{
      name: 'POST /graphql',
      kind: SpanKind.SERVER,
      children: [{
        name: 'query DatasetWithModels',
        kind: SpanKind.INTERNAL,
        children: [
          {
            name: 'resolve Query.dataset',
            kind: SpanKind.INTERNAL,
            children: [{ name: 'GET /api/v1/dataset/{dataset_id}', kind: SpanKind.CLIENT, children: [] }]
          },
          {
            name: 'resolve Dataset.models',
            kind: SpanKind.INTERNAL,
            children: [{ name: 'GET /api/v1/enrichment/{dataset_id}/list_models', kind: SpanKind.CLIENT, children: [] }]
          }
        ]
      }]
    }])
    expect(spans).toHaveLength(6)

    const byName = new Map(spans.map((span) => [span.name, span]))
    expect(byName.get('query DatasetWithModels')?.attributes).toEqual({ 'graphql.operation.type': 'query', 'graphql.operation.name': 'DatasetWithModels' })
    const call = byName.get('GET /api/v1/dataset/{dataset_id}')
    expect(call?.attributes).toEqual({
      'http.request.method': 'GET',
      'url.template': '/api/v1/dataset/{dataset_id}',
      'url.full': `${gw.emulator.url}/api/v1/dataset/${READY}`,
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(gw.emulator.url).port),
      'http.response.status_code': 200
    })

    // Each Visual Layer call carried the trace, with its own client span as parent.
    const clientSpans = spans.filter((span) => span.kind === SpanKind.CLIENT).map((span) => `00-${FRONTEND_TRACE}-${span.spanContext().spanId}-01`)
    expect(gw.emulator.calls().map((record) => record.traceparent)).toEqual(clientSpans)
  })

  it('sends Visual Layer its own traceparent and the caller\'s tracestate, never the caller\'s baggage (issue 22, item 14)', async () => {
    emulator.clearCalls()
    const res = await gw.gql(`query One { dataset(id: "${READY}") { id } }`, undefined, {
      traceparent: `00-${FRONTEND_TRACE}-${FRONTEND_SPAN}-01`,
      tracestate: 'frontend=abc',
      baggage: 'user.id=alice,tenant=globex',
      'x-request-id': 'req-baggage'
    })
    expect(res.body).toEqual({ data: { dataset: { id: READY } } })
    const [call] = emulator.calls()
    const { authorization, traceparent, host, ...rest } = call?.headers ?? {}
    expect([authorization?.startsWith('Bearer '), traceparent?.startsWith(`00-${FRONTEND_TRACE}-`), host, rest]).toEqual([
      true, true, new URL(emulator.url).host, { accept: 'application/json', connection: 'keep-alive', 'x-request-id': 'req-baggage', tracestate: 'frontend=abc' }
    ])
  })
})
