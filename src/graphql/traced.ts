import { context, SpanStatusCode, trace } from '@opentelemetry/api'
import { responsePathAsArray, type GraphQLFieldResolver } from 'graphql'
import type { GatewayContext } from './context.js'

/*
 * A span per resolver that calls Visual Layer, under the operation's span (its door set
 * `traceContext`). The resolver runs inside the span's context, so the upstream client's spans for
 * the calls it makes become its children. Calls batched by a DataLoader across several fields are
 * sent once, under the span of the field that asked first. Without `traceContext` (tracing off, or a
 * subscription's events) the resolver runs as it is.
 */

type Resolver = GraphQLFieldResolver<unknown, GatewayContext>

export function traced (typeName: string, fieldName: string, resolve: Resolver): Resolver {
  const tracer = trace.getTracer('visual-layer-gateway')
  return (parent, args, ctx, info) => {
    const parentContext = ctx.traceContext?.()
    if (parentContext === undefined) return resolve(parent, args, ctx, info)
    const span = tracer.startSpan(`resolve ${typeName}.${fieldName}`, {
      attributes: {
        'graphql.field.name': fieldName,
        'graphql.field.path': responsePathAsArray(info.path).join('.'),
        'graphql.field.type': String(info.returnType)
      }
    }, parentContext)
    const failed = (err: unknown): never => {
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) })
      span.end()
      throw err
    }
    try {
      const result = context.with(trace.setSpan(parentContext, span), () => resolve(parent, args, ctx, info))
      if (result instanceof Promise) return result.then((value: unknown) => { span.end(); return value }, failed)
      span.end()
      return result
    } catch (err) {
      return failed(err)
    }
  }
}
