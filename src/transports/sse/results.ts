import { GraphQLError, type ExecutionResult } from 'graphql'
import { endAtExpiry } from '../expiry.js'

/**
 * A subscription's results as graphql-sse wants them: ended with UNAUTHENTICATED when the caller's
 * token expires (as over WebSocket), a failure given as one last result with errors instead of a
 * throw (graphql-sse would end the whole stream, with every other operation of a single-connection
 * stream on it), and the shape of an async generator, without which graphql-sse never calls
 * return() when its client leaves, so the poller would poll on.
 */
export function subscriptionResults (source: AsyncIterator<ExecutionResult>, expiresAt: number | null): AsyncGenerator<ExecutionResult> {
  const inner = expiresAt === null ? source : endAtExpiry(source, expiresAt)
  let done = false
  const finish = async (): Promise<IteratorResult<ExecutionResult>> => {
    done = true
    await inner.return?.()
    return { value: undefined, done: true }
  }
  const results: AsyncGenerator<ExecutionResult> = {
    async next () {
      if (done) return { value: undefined, done: true }
      try {
        const next = await inner.next()
        if (next.done === true) done = true
        return next
      } catch (err) {
        done = true
        const error = err instanceof GraphQLError
          ? err
          : new GraphQLError(err instanceof Error ? err.message : String(err), { originalError: err instanceof Error ? err : undefined })
        return { value: { errors: [error] }, done: false }
      }
    },
    return: finish,
    throw: finish,
    [Symbol.asyncIterator] () { return results }
  }
  return results
}
