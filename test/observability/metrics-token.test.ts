import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'

/**
 * Issue 22, item 16: the metrics listener has no authentication, so where the network does not keep
 * it private (a NetworkPolicy the cluster does not enforce, a host port), METRICS_TOKEN makes it ask
 * for `Authorization: Bearer <token>`, as Prometheus sends with `authorization: { credentials_file }`.
 */

const TOKEN = 'a-metrics-token-of-some-length'

describe('METRICS_TOKEN', () => {
  let gw: TestGateway
  let url: string
  beforeAll(async () => {
    gw = await startTestGateway({ METRICS_PORT: '0', METRICS_TOKEN: TOKEN })
    url = `http://127.0.0.1:${(gw.app.metricsServer?.address() as AddressInfo).port}/metrics`
  })
  afterAll(async () => { await gw.close() })

  const scrape = async (headers: Record<string, string> = {}): Promise<[number, string | null, string]> => {
    const res = await fetch(url, { headers })
    return [res.status, res.headers.get('www-authenticate'), await res.text()]
  }
  const REFUSED = 'Unauthorized: this metrics listener needs Authorization: Bearer <METRICS_TOKEN>.\n'

  it('refuses a scrape without the token, or with another, with 401 and says what to send', async () => {
    expect(await scrape()).toEqual([401, 'Bearer realm="metrics"', REFUSED])
    expect(await scrape({ authorization: `Bearer ${TOKEN}x` })).toEqual([401, 'Bearer realm="metrics"', REFUSED])
    expect(await scrape({ authorization: TOKEN })).toEqual([401, 'Bearer realm="metrics"', REFUSED])
  })

  it('serves the metrics to a scrape with the token', async () => {
    const [status, challenge, text] = await scrape({ authorization: `Bearer ${TOKEN}` })
    expect([status, challenge, text.split('\n').includes('# TYPE vlgw_operations_total counter')]).toEqual([200, null, true])
  })
})
