import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SEED, startEmulator, type RunningEmulator } from '../../src/emulator/index.js'
import { startGatewayOn, TEST_START, type TestGateway } from '../helpers/gateway.js'

/*
 * With tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT, the default), a caller's W3C trace context still
 * reaches Visual Layer unchanged (src/upstream/trace-context.ts): every upstream call of the request
 * carries the caller's `traceparent` and `tracestate`, never its `baggage`; a malformed traceparent is
 * not passed on. test/observability/tracing.test.ts covers tracing on.
 */

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
const TRACESTATE = 'frontend=abc,vendor=x1'

describe('trace context with tracing off', () => {
  let emulator: RunningEmulator
  let gw: TestGateway
  beforeAll(async () => {
    // It keeps every request header: what the gateway forwards is checked exactly.
    emulator = await startEmulator({ clock: TEST_START, recordHeaders: true })
    gw = await startGatewayOn(emulator)
  })
  afterAll(async () => {
    await gw.close()
    await emulator.close()
  })

  const traceHeaders = (): Array<Record<string, string | undefined>> => emulator.calls().map((call) => ({
    traceparent: call.headers?.traceparent,
    tracestate: call.headers?.tracestate,
    baggage: call.headers?.baggage
  }))

  it('passes the caller\'s traceparent and tracestate to every Visual Layer call of a GraphQL operation, never its baggage', async () => {
    emulator.clearCalls()
    const res = await gw.gql('query DatasetWithModels($id: ID!) { dataset(id: $id) { id models { id } } }', { id: SEED.datasets.ready }, {
      traceparent: TRACEPARENT,
      tracestate: TRACESTATE,
      baggage: 'user.id=alice'
    })
    expect(res.status).toBe(200)
    expect(res.body.errors).toBeUndefined()
    const sent = traceHeaders()
    expect(sent.length).toBe(2)
    expect(sent).toEqual(sent.map(() => ({ traceparent: TRACEPARENT, tracestate: TRACESTATE, baggage: undefined })))
  })

  it('passes it on REST calls too', async () => {
    emulator.clearCalls()
    const res = await fetch(`${gw.url}/v1/datasets/${SEED.datasets.ready}`, { headers: { traceparent: TRACEPARENT } })
    expect(res.status).toBe(200)
    expect(traceHeaders()).toEqual([{ traceparent: TRACEPARENT, tracestate: undefined, baggage: undefined }])
  })

  it('sends none when the caller sent none, or a traceparent W3C says to ignore', async () => {
    const invalid = [
      undefined,
      'not-a-traceparent',
      // Version ff is invalid; an all-zero trace id or parent id is invalid; upper-case hex is not the format.
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01'
    ]
    for (const traceparent of invalid) {
      emulator.clearCalls()
      const res = await gw.gql('{ datasets { id } }', {}, traceparent === undefined ? {} : { traceparent, tracestate: TRACESTATE })
      expect(res.status).toBe(200)
      expect({ traceparent, sent: traceHeaders() }).toEqual({ traceparent, sent: [{ traceparent: undefined, tracestate: undefined, baggage: undefined }] })
    }
  })

  it('drops a tracestate over 512 characters, and keeps the traceparent', async () => {
    emulator.clearCalls()
    const res = await gw.gql('{ datasets { id } }', {}, { traceparent: TRACEPARENT, tracestate: `a=${'b'.repeat(511)}` })
    expect(res.status).toBe(200)
    expect(traceHeaders()).toEqual([{ traceparent: TRACEPARENT, tracestate: undefined, baggage: undefined }])
  })
})
