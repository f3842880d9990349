/*
 * Names in the environment that look like one of the gateway's settings but are not: a setting
 * misspelt (RATE_LIMIT_PER_MIN) is otherwise silently ignored, and the default runs instead.
 * Pure: src/server.ts passes the environment and logs what this returns.
 */

/** Edit distance (insertions, deletions, substitutions, adjacent swaps) between two names. */
function distance (a: string, b: string): number {
  const rows = a.length + 1
  const cols = b.length + 1
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min((d[i - 1]?.[j] ?? 0) + 1, (d[i]?.[j - 1] ?? 0) + 1, (d[i - 1]?.[j - 1] ?? 0) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, (d[i - 2]?.[j - 2] ?? 0) + 1)
      const row = d[i]
      if (row !== undefined) row[j] = best
    }
  }
  return d[a.length]?.[b.length] ?? 0
}

/** The same words, all but the last equal, the last cut short or run on (RATE_LIMIT_PER_MIN, VL_API_KEY_FILE). */
function sameWordsButTheLast (given: string, known: string): boolean {
  const a = given.split('_')
  const b = known.split('_')
  if (a.length !== b.length || a.length < 2) return false
  const lastA = a[a.length - 1] ?? ''
  const lastB = b[b.length - 1] ?? ''
  return a.slice(0, -1).join('_') === b.slice(0, -1).join('_') && lastA.length >= 2 && (lastB.startsWith(lastA) || lastA.startsWith(lastB))
}

export interface SuspectedName {
  /** The variable as set. */
  readonly given: string
  /** The setting it most likely meant. */
  readonly likely: string
}

/**
 * Each variable of `env` that is not one of `known` but is within two edits of one (names of at least
 * six characters), or has its words with the last cut short: the closest setting, for a start-up warning.
 */
export function suspectedNames (env: Readonly<Record<string, string | undefined>>, known: readonly string[]): SuspectedName[] {
  const names = new Set(known)
  const found: SuspectedName[] = []
  for (const given of Object.keys(env)) {
    if (names.has(given) || !/^[A-Z][A-Z0-9_]*$/.test(given)) continue
    let best: { name: string, score: number } | null = null
    for (const name of known) {
      const score = given.length >= 6 && name.length >= 6 ? distance(given, name) : Number.POSITIVE_INFINITY
      const close = score <= 2 || sameWordsButTheLast(given, name)
      if (close && (best === null || score < best.score)) best = { name, score }
    }
    if (best !== null) found.push({ given, likely: best.name })
  }
  return found
}
