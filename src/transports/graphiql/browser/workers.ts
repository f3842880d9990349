/*
 * Monaco runs its language services in Web Workers. scripts/build-graphiql.mjs bundles each worker
 * into a file of its own beside the page's script and passes their names in `__GRAPHIQL_WORKERS__`;
 * they are loaded from this origin (`worker-src 'self'`), never from a blob: URL or another host.
 */
declare const __GRAPHIQL_WORKERS__: { editor: string, json: string, graphql: string }

interface MonacoEnvironment { getWorker: (workerId: string, label: string) => Worker }

function workerFile (label: string): string {
  if (label === 'json') return __GRAPHIQL_WORKERS__.json
  if (label === 'graphql') return __GRAPHIQL_WORKERS__.graphql
  return __GRAPHIQL_WORKERS__.editor
}

(globalThis as unknown as { MonacoEnvironment: MonacoEnvironment }).MonacoEnvironment = {
  getWorker: (_workerId, label) => new Worker(new URL(workerFile(label), import.meta.url), { name: `graphiql-${label}` })
}
