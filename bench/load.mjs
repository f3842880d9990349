/*
 * The bench's load generator, in a process of its own so that its CPU is neither the server's nor
 * the bench's: autocannon, asked over IPC to run one load ({ url, method, path, headers, body,
 * connections, seconds, overallRate?, paths?, bodies? }) and answering its figures. `paths` or `bodies`:
 * every request takes the next one of the list, in turn (a variable or an id of its own per request). Every answer is checked: a status
 * other than 200 or a body with an `errors` entry counts as an error (autocannon counts only non-2xx).
 */
import autocannon from 'autocannon'

function run ({ url, method, path, headers, body, connections, seconds, overallRate, paths, bodies }) {
  let failed = 0
  let turn = 0
  const variants = paths ?? bodies
  const setupRequest = variants === undefined
    ? undefined
    : (request) => {
        const variant = variants[turn++ % variants.length]
        return paths === undefined ? { ...request, body: variant } : { ...request, path: variant }
      }
  let firstFailure = null
  return new Promise((resolve, reject) => {
    autocannon({
      url,
      connections,
      duration: seconds,
      // At most this many requests a second in all (the soak's fixed load); unset, as fast as answered.
      ...(overallRate === undefined ? {} : { overallRate }),
      requests: [{
        method,
        path,
        headers,
        body,
        ...(setupRequest === undefined ? {} : { setupRequest }),
        onResponse: (status, responseBody) => {
          // A GraphQL answer with errors still has status 200 over application/json.
          if (status !== 200 || responseBody.includes('"errors"')) {
            failed++
            firstFailure ??= `${status} ${responseBody.slice(0, 300)}`
          }
        }
      }]
    }, (err, result) => {
      if (err) {
        reject(err)
        return
      }
      resolve({
        requests: result.requests.total,
        // Sent includes the requests still in flight when the time was up: each reached the server.
        sent: result.requests.sent,
        seconds: result.duration,
        perSecond: result.requests.total / result.duration,
        p50: result.latency.p50,
        p99: result.latency.p99,
        mean: result.latency.average,
        // Socket errors and timeouts, non-2xx answers, and 200s carrying GraphQL errors.
        errors: result.errors + result.timeouts + Math.max(failed, result.non2xx),
        firstFailure
      })
    })
  })
}

process.on('message', (message) => {
  run(message).then(
    (value) => process.send?.({ id: message.id, ok: true, value }),
    (err) => process.send?.({ id: message.id, ok: false, error: err instanceof Error ? err.message : String(err) })
  )
})
process.on('disconnect', () => { process.exit(0) })
process.send?.({ type: 'ready' })
