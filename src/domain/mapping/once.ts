import type { UnknownValueReporter } from './values.js'

/*
 * A parsed upstream record mapped once, however many requests read it: the requests that share one
 * upstream answer share its parsed records (see the client's parses), and so their mapped objects,
 * which nobody mutates. A record with a value the gateway does not know is mapped anew for each
 * request, so that each still reports it (onUnknown is per request).
 */
export function mapOnce<R extends object, M> (
  cache: WeakMap<R, M>,
  record: R,
  onUnknown: UnknownValueReporter,
  map: (record: R, onUnknown: UnknownValueReporter) => M
): M {
  const known = cache.get(record)
  if (known !== undefined) return known
  let reported = false
  const mapped = map(record, (kind, value) => {
    reported = true
    onUnknown(kind, value)
  })
  if (!reported) cache.set(record, mapped)
  return mapped
}
