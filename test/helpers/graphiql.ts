import type { Browser, BrowserContext, Page } from 'playwright-core'
import { recordPage, type PageRecord } from './browser.js'

/**
 * Driving the gateway's GraphiQL 5 in Chromium. Its editors are Monaco editors; GraphiQL itself
 * keeps the Monaco namespace on `globalThis.__MONACO`, whose models are what the editors show (one
 * model per editor, named `…operation.graphql`, `…request-headers.json`, `…response.json`).
 * Queries and headers are set on those models (typing would go through Monaco's auto-closing and
 * auto-indent); runs are started with GraphiQL's own button, and results read from the response
 * editor's model.
 *
 * Every Content-Security-Policy violation the page sees becomes a console error, so it is one of
 * the record's problems.
 */
export interface OpenedGraphiQL {
  context: BrowserContext
  page: Page
  record: PageRecord
}

const EXECUTE_BUTTON = 'button.graphiql-execute-button'
type EditorName = 'operation.graphql' | 'request-headers.json' | 'response.json' | 'variables.json'

/** Opens GraphiQL at `url` in a new context (no shared storage) and waits for its editors and its schema request (the first POST). */
export async function openGraphiQL (browser: Browser, url: string, viewport = { width: 1400, height: 900 }): Promise<OpenedGraphiQL> {
  const context = await browser.newContext({ viewport })
  const page = await context.newPage()
  const record = recordPage(page)
  await page.addInitScript(() => {
    interface Violation { effectiveDirective: string, blockedURI: string, sourceFile: string }
    const page = globalThis as unknown as { console: { error: (text: string) => void }, addEventListener: (type: string, listener: (event: Violation) => void) => void }
    page.addEventListener('securitypolicyviolation', (violation) => {
      page.console.error(`CSP violation: ${violation.effectiveDirective} blocked ${violation.blockedURI || '(inline)'} in ${violation.sourceFile}`)
    })
  })
  const schemaLoaded = page.waitForResponse((response) => response.request().method() === 'POST')
  await page.goto(url)
  await page.locator('.graphiql-query-editor .monaco-editor').waitFor()
  await schemaLoaded
  await page.waitForFunction(() => (globalThis as unknown as { __MONACO?: unknown }).__MONACO !== undefined)
  return { context, page, record }
}

/** The text of one of GraphiQL's editors. */
export async function editorText (page: Page, editor: EditorName): Promise<string> {
  return await page.evaluate((suffix) => {
    const monaco = (globalThis as unknown as { __MONACO: { editor: { getModels: () => Array<{ uri: { path: string }, getValue: () => string }> } } }).__MONACO
    const model = monaco.editor.getModels().find((candidate) => candidate.uri.path.endsWith(`-${suffix}`))
    if (model === undefined) throw new Error(`GraphiQL has no ${suffix} editor`)
    return model.getValue()
  }, editor)
}

async function setEditorText (page: Page, editor: EditorName, text: string): Promise<void> {
  await page.evaluate(([suffix, value]) => {
    const monaco = (globalThis as unknown as { __MONACO: { editor: { getModels: () => Array<{ uri: { path: string }, setValue: (v: string) => void }> } } }).__MONACO
    const model = monaco.editor.getModels().find((candidate) => candidate.uri.path.endsWith(`-${suffix}`))
    if (model === undefined) throw new Error(`GraphiQL has no ${suffix} editor`)
    model.setValue(value)
  }, [editor, text] as const)
  const value = await editorText(page, editor)
  if (value !== text) throw new Error(`the ${editor} editor holds ${JSON.stringify(value)} instead of ${JSON.stringify(text)}`)
}

/**
 * Replaces the operation, and waits until GraphiQL has taken it in (it reads the editor 100 ms after
 * the last change, debounced): the open tab's title becomes the operation's name, found as GraphiQL
 * finds it. Run before that, GraphiQL would send the previous operation's name.
 */
export async function setQuery (page: Page, query: string): Promise<void> {
  await setEditorText(page, 'operation.graphql', query)
  const title = /^(?!#).*(query|subscription|mutation)\s+([a-zA-Z0-9_]+)/m.exec(query)?.[2] ?? '<untitled>'
  await page.locator('.graphiql-tab-active .graphiql-tab-button').filter({ hasText: new RegExp(`^${title}$`) }).waitFor({ timeout: 5000 })
}

/** Replaces the headers editor's content with `headers` as JSON. */
export async function setHeaders (page: Page, headers: Record<string, string>): Promise<void> {
  await setEditorText(page, 'request-headers.json', JSON.stringify(headers, null, 2))
}

/** The text of the result pane. */
export async function resultText (page: Page): Promise<string> {
  return await editorText(page, 'response.json')
}

/** Stops a running operation (a subscription), if any. */
export async function stopRunning (page: Page): Promise<void> {
  const button = page.locator(EXECUTE_BUTTON)
  if ((await button.getAttribute('aria-label'))?.startsWith('Stop') === true) {
    await button.click()
    await page.locator(`${EXECUTE_BUTTON}[aria-label^="Execute"]`).waitFor()
  }
}

/** Resolves once the text of GraphiQL's `editor` is other than `seen` (Monaco's change event of its model). */
async function editorChanged (page: Page, editor: EditorName, seen: string): Promise<void> {
  await page.evaluate(async ([suffix, before]) => {
    type Model = { uri: { path: string }, getValue: () => string, onDidChangeContent: (listener: () => void) => { dispose: () => void } }
    const monaco = (globalThis as unknown as { __MONACO: { editor: { getModels: () => Model[] } } }).__MONACO
    const model = monaco.editor.getModels().find((candidate) => candidate.uri.path.endsWith(`-${suffix}`))
    if (model === undefined) throw new Error(`GraphiQL has no ${suffix} editor`)
    await new Promise<void>((resolve) => {
      if (model.getValue() !== before) {
        resolve()
        return
      }
      const subscription = model.onDidChangeContent(() => {
        if (model.getValue() === before) return
        subscription.dispose()
        resolve()
      })
    })
  }, [editor, seen] as const)
}

/** Resolves with the result pane's text once `accept` returns true for it: looked at now and at each change of the pane. */
export async function waitForResult (page: Page, accept: (text: string) => boolean, timeoutMs = 5000): Promise<string> {
  let text = await resultText(page)
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`GraphiQL did not show the expected result within ${timeoutMs} ms; it shows ${JSON.stringify(text)}`)) }, timeoutMs)
  })
  late.catch(() => {})
  try {
    while (text === '' || !accept(text)) {
      await Promise.race([editorChanged(page, 'response.json', text), late])
      text = await resultText(page)
    }
    return text
  } finally {
    clearTimeout(timer)
  }
}

/** Clicks the run button and returns the first result GraphiQL shows, parsed (for a subscription, its first event; it may still be running). */
export async function runInGraphiQL (page: Page, timeoutMs = 5000): Promise<unknown> {
  await stopRunning(page)
  await page.locator(EXECUTE_BUTTON).click()
  // GraphiQL empties the result pane when the run starts; wait for what comes next.
  const text = await waitForResult(page, () => true, timeoutMs)
  try {
    return JSON.parse(text)
  } catch {
    throw new Error(`GraphiQL shows a result that is not JSON: ${text}`)
  }
}

/**
 * Types `query` (and, if given, `headers` in the headers editor), clicks the run button and
 * returns the first result GraphiQL shows, parsed. A result that is not JSON (GraphiQL's own
 * messages, such as invalid headers) is thrown.
 */
export async function runQueryInGraphiQL (page: Page, query: string, headers?: Record<string, string>, timeoutMs = 5000): Promise<unknown> {
  await stopRunning(page)
  await setQuery(page, query)
  if (headers !== undefined) await setHeaders(page, headers)
  return await runInGraphiQL(page, timeoutMs)
}

/** Opens the tab whose title is `title` (an operation's name). */
export async function openTab (page: Page, title: string): Promise<void> {
  await page.locator('.graphiql-tab-button', { hasText: title }).click()
  await page.locator('.graphiql-tab-active', { hasText: title }).waitFor()
}
