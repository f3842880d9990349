import { Transform, type Readable } from 'node:stream'

/**
 * A request without a token may only ask for the schema, whose documents are a few KB (GraphiQL's
 * introspection is about 2 KB): it gets a body limit of its own, far under the 1 MB of the others,
 * so that anyone cannot make the gateway read and parse megabytes.
 */
const ANONYMOUS_BODY_LIMIT = 64 * 1024

function tooLarge (): Error {
  return Object.assign(new Error(
    `A request without a token may only ask for the schema, in at most ${ANONYMOUS_BODY_LIMIT / 1024} KB of body. Send an Authorization header.`
  ), { statusCode: 413 })
}

/** The body stream, cut off with a 413 beyond the limit (declared or, when chunked, as it arrives). */
export function limitAnonymousBody (payload: Readable, contentLength: string | undefined): Readable {
  if (contentLength !== undefined && Number(contentLength) > ANONYMOUS_BODY_LIMIT) throw tooLarge()
  let received = 0
  const limited = new Transform({
    transform (chunk: Buffer, _encoding, done) {
      received += chunk.length
      done(received > ANONYMOUS_BODY_LIMIT ? tooLarge() : null, chunk)
    }
  })
  payload.on('error', (err) => limited.destroy(err))
  return payload.pipe(limited)
}
