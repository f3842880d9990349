import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'

/*
 * A server span per HTTP request, by @fastify/otel (Fastify's own OpenTelemetry instrumentation),
 * continuing the caller's W3C `traceparent`. Registered first, and only when tracing is on: its
 * module is not even loaded otherwise. One span per request: its spans per hook and per handler are
 * turned off (a dozen spans of no interest to an operator for every request); GraphQL operations,
 * resolvers and Visual Layer calls have spans of their own (operations.ts, graphql/traced.ts,
 * upstream/send.ts). Spans go to whatever tracer provider is registered (src/otlp-traces.ts in the server,
 * an in-memory one in tests).
 */

const httpSpansPlugin: FastifyPluginAsync = async (app) => {
  const { FastifyOtelInstrumentation } = await import('@fastify/otel')
  const instrumentation = new FastifyOtelInstrumentation({
    instrumentHooks: false,
    instrumentHandler: false,
    // Orchestrators probe health every few seconds: not worth a trace each.
    ignorePaths: (route) => route.url?.startsWith('/health/') === true,
    // HTTP server semantic conventions: "{method} {route}".
    requestHook: (span, request) => { span.updateName(`${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`) }
  })
  await app.register(instrumentation.plugin())
}

export default fp(httpSpansPlugin, { name: 'http-spans' })
