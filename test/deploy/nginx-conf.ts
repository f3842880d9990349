/*
 * Just enough of nginx's configuration language for test/deploy/compose.test.ts to read
 * deploy/nginx.conf: directives, blocks, quotes and comments; which location serves a URI (exact,
 * then the longest prefix unless a regex matches first); and the proxy headers a location really
 * sends (proxy_set_header is inherited only by a level that sets none of its own).
 */

export interface Directive {
  readonly name: string
  readonly args: readonly string[]
  /** The directives inside its braces, for a block. */
  readonly block?: readonly Directive[]
}

function tokens (text: string): string[] {
  const found: string[] = []
  const pattern = /#[^\n]*|'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|([{};])|([^\s{};'"#]+)/g
  for (const match of text.matchAll(pattern)) {
    if (match[0].startsWith('#')) continue
    found.push(match[1] ?? match[2] ?? match[3] ?? match[4] ?? '')
  }
  return found
}

export function parseNginx (text: string): Directive[] {
  const list = tokens(text)
  let at = 0
  const parseBlock = (closing: boolean): Directive[] => {
    const directives: Directive[] = []
    while (at < list.length) {
      if (list[at] === '}') {
        if (!closing) throw new Error('unexpected }')
        at++
        return directives
      }
      const words: string[] = []
      while (at < list.length && list[at] !== ';' && list[at] !== '{') words.push(list[at++] as string)
      const end = list[at++]
      const [name, ...args] = words
      if (name === undefined) throw new Error(`a directive without a name before ${String(end)}`)
      if (end === '{') directives.push({ name, args, block: parseBlock(true) })
      else if (end === ';') directives.push({ name, args })
      else throw new Error(`directive ${name} is not ended by ; or {`)
    }
    if (closing) throw new Error('a block is not closed')
    return directives
  }
  return parseBlock(false)
}

export const all = (directives: readonly Directive[] | undefined, name: string): Directive[] => (directives ?? []).filter((d) => d.name === name)

export function one (directives: readonly Directive[] | undefined, name: string): Directive {
  const found = all(directives, name)
  if (found.length !== 1) throw new Error(`expected one ${name}, found ${found.length}`)
  return found[0] as Directive
}

/** The location block of `server` that serves `uri`, as nginx chooses it. */
export function locationFor (server: Directive, uri: string): Directive {
  const locations = all(server.block, 'location')
  const exact = locations.find((l) => l.args[0] === '=' && l.args[1] === uri)
  if (exact !== undefined) return exact
  const prefixes = locations.filter((l) => l.args.length === 1 || l.args[0] === '^~')
    .filter((l) => uri.startsWith(l.args[l.args.length - 1] as string))
    .sort((a, b) => (b.args[b.args.length - 1] as string).length - (a.args[a.args.length - 1] as string).length)
  const longest = prefixes[0]
  if (longest?.args[0] === '^~') return longest
  const regex = locations.find((l) => (l.args[0] === '~' || l.args[0] === '~*') && new RegExp(l.args[1] as string, l.args[0] === '~*' ? 'i' : '').test(uri))
  const chosen = regex ?? longest
  if (chosen === undefined) throw new Error(`no location serves ${uri}`)
  return chosen
}

/** The value of a directive in `location`, else the one `server` sets for every location. */
export function setting (server: Directive, location: Directive, name: string): readonly string[] | undefined {
  return all(location.block, name)[0]?.args ?? all(server.block, name)[0]?.args
}

/** The headers nginx sends upstream from `location` (lower-case names), with the inheritance rule. */
export function proxyHeaders (server: Directive, location: Directive): Record<string, string> {
  const own = all(location.block, 'proxy_set_header')
  const used = own.length > 0 ? own : all(server.block, 'proxy_set_header')
  return Object.fromEntries(used.map((d) => [(d.args[0] as string).toLowerCase(), d.args[1] as string]))
}

/** nginx time values (`90`, `90s`, `5m`, `1h`) in seconds. */
export function seconds (value: string): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(value)
  if (match === null) throw new Error(`not an nginx time: ${value}`)
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] ?? 's'] as number
  return Number(match[1]) * unit
}
