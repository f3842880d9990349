/**
 * Path globs used by faults and the call-log filter: `*` matches within one path segment,
 * `**` matches anything (slashes included). Every other character is literal.
 */
export function globToRegExp (glob: string): RegExp {
  let source = ''
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i] as string
    if (char === '*') {
      if (glob[i + 1] === '*') {
        source += '.*'
        i++
      } else {
        source += '[^/]*'
      }
    } else {
      source += char.replace(/[.+?^${}()|[\]\\]/g, '\\$&')
    }
  }
  return new RegExp(`^${source}$`)
}

export function matchesGlob (glob: string, path: string): boolean {
  return globToRegExp(glob).test(path)
}
