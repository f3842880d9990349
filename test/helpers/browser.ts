import { existsSync } from 'node:fs'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { describe } from 'vitest'

/**
 * Real-browser helpers: Debian's Chromium driven by playwright-core (no browser download).
 *
 * Tests that need the browser use `describeWithBrowser`: without Chromium they are skipped, with
 * a message saying how to install it, unless REQUIRE_BROWSER=1 (CI), where they fail instead.
 */
export const CHROMIUM_PATH = '/usr/bin/chromium'
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync'
]
const INSTALL_HINT = 'install it with `apt-get update && apt-get install -y chromium`'

/** Why browser tests are skipped here, or null when they run (Chromium present, or REQUIRE_BROWSER=1). */
export function browserSkipReason (): string | null {
  if (existsSync(CHROMIUM_PATH) || process.env.REQUIRE_BROWSER === '1') return null
  return `Chromium not found at ${CHROMIUM_PATH}: ${INSTALL_HINT} (with REQUIRE_BROWSER=1 this is a failure)`
}

/** `describe`, skipped with the reason in its name (also printed) when there is no browser. */
export function describeWithBrowser (name: string, body: () => void): void {
  const reason = browserSkipReason()
  // Skipped only where Chromium is not installed and not required (a developer machine without it);
  // CI installs it and sets REQUIRE_BROWSER=1, so there these tests always run.
  if (reason !== null) process.stderr.write(`skipping "${name}": ${reason}\n`)
  describe.skipIf(reason !== null)(reason === null ? name : `${name} (skipped: ${reason})`, body)
}

/** Chromium with a fresh, throw-away profile. */
export async function launchBrowser (): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH} and REQUIRE_BROWSER=1: ${INSTALL_HINT}`)
  }
  return await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS })
}

/** What a page did: every URL it asked for (HTTP and WebSocket), and everything that went wrong. */
export interface PageRecord {
  /** `GET http://...`, `POST http://...`, `WS ws://...`, in order. */
  requests: string[]
  /** Console errors, uncaught exceptions, failed requests and HTTP error statuses. */
  problems: string[]
}

/** Starts recording a page's requests and problems (call before navigating). */
export function recordPage (page: Page): PageRecord {
  const record: PageRecord = { requests: [], problems: [] }
  page.on('request', (request) => { record.requests.push(`${request.method()} ${request.url()}`) })
  page.on('websocket', (socket) => {
    record.requests.push(`WS ${socket.url()}`)
    socket.on('socketerror', (error) => { record.problems.push(`websocket ${socket.url()}: ${error}`) })
  })
  page.on('requestfailed', (request) => {
    record.problems.push(`request failed: ${request.method()} ${request.url()}: ${request.failure()?.errorText ?? 'unknown'}`)
  })
  page.on('response', (response) => {
    if (response.status() >= 400) record.problems.push(`HTTP ${response.status()}: ${response.request().method()} ${response.url()}`)
  })
  page.on('console', (message) => {
    if (message.type() === 'error') record.problems.push(`console error: ${message.text()}`)
  })
  page.on('pageerror', (error) => { record.problems.push(`uncaught: ${error.message}`) })
  return record
}

/** The recorded requests whose URL is not on `origin` (e.g. `http://127.0.0.1:4000`); data: and blob: URLs stay local. */
export function requestsOffOrigin (record: PageRecord, origin: string): string[] {
  const host = new URL(origin).host
  return record.requests.filter((entry) => {
    const url = new URL(entry.slice(entry.indexOf(' ') + 1))
    if (url.protocol === 'data:' || url.protocol === 'blob:') return false
    return url.host !== host || !['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)
  })
}

export interface OpenedGraphiQL {
  context: BrowserContext
  page: Page
  record: PageRecord
}

const QUERY_EDITOR = '.graphiql-query-editor .CodeMirror'
const VISIBLE_TOOL_EDITOR = '.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror'
const RESPONSE_EDITOR = '.graphiql-response .CodeMirror'
const EXECUTE_BUTTON = 'button.graphiql-execute-button'

/** CodeMirror 5 hangs its instance on its wrapper element. */
interface CodeMirrorElement { CodeMirror?: { getValue: () => string } }

/**
 * Opens GraphiQL at `url` in a new context (no shared storage), recording the page from the
 * start, and waits until the editor is shown and the schema request (the first POST) answered.
 */
export async function openGraphiQL (browser: Browser, url: string): Promise<OpenedGraphiQL> {
  const context = await browser.newContext()
  const page = await context.newPage()
  const record = recordPage(page)
  const schemaLoaded = page.waitForResponse((response) => response.request().method() === 'POST')
  await page.goto(url)
  await page.locator(QUERY_EDITOR).waitFor()
  await schemaLoaded
  return { context, page, record }
}

async function editorValue (page: Page, selector: string): Promise<string> {
  return await page.locator(selector).evaluate((element) => {
    const editor = (element as unknown as CodeMirrorElement).CodeMirror
    if (editor === undefined) throw new Error('not a CodeMirror editor')
    return editor.getValue()
  })
}

/** Replaces an editor's text the way a user pasting would (no auto-closed brackets), and checks it took. */
async function replaceEditorText (page: Page, selector: string, text: string): Promise<void> {
  await page.locator(selector).click()
  await page.keyboard.press('ControlOrMeta+a')
  await page.keyboard.press('Delete')
  if (text !== '') await page.keyboard.insertText(text)
  const value = await editorValue(page, selector)
  if (value !== text) throw new Error(`the editor holds ${JSON.stringify(value)} instead of ${JSON.stringify(text)}`)
}

export async function setQuery (page: Page, query: string): Promise<void> {
  await replaceEditorText(page, QUERY_EDITOR, query)
}

/** Opens the Headers tab and replaces its content with `headers` as JSON. */
export async function setHeaders (page: Page, headers: Record<string, string>): Promise<void> {
  await page.locator('.graphiql-editor-tools button[data-name="headers"]').click()
  await replaceEditorText(page, VISIBLE_TOOL_EDITOR, JSON.stringify(headers, null, 2))
}

/** The text of the result pane. */
export async function resultText (page: Page): Promise<string> {
  return await editorValue(page, RESPONSE_EDITOR)
}

/**
 * Types `query` (and, if given, `headers` in the headers editor), clicks the run button and
 * returns the first result GraphiQL shows, parsed. A result that is not JSON (GraphiQL's own
 * messages, such as invalid headers) is thrown. For a subscription this is its first event; the
 * subscription may still be running (the next call stops it first).
 */
export async function runQueryInGraphiQL (page: Page, query: string, headers?: Record<string, string>, timeoutMs = 5000): Promise<unknown> {
  const button = page.locator(EXECUTE_BUTTON)
  if ((await button.getAttribute('aria-label'))?.startsWith('Stop') === true) {
    await button.click()
    await page.locator(`${EXECUTE_BUTTON}[aria-label^="Execute"]`).waitFor()
  }
  await setQuery(page, query)
  if (headers !== undefined) await setHeaders(page, headers)
  await button.click()
  // GraphiQL empties the result pane when the run starts; wait for what comes next.
  const shown = await page.waitForFunction((selector) => {
    const element = (globalThis as unknown as { document: { querySelector: (s: string) => unknown } }).document.querySelector(selector)
    const value = (element as CodeMirrorElement | null)?.CodeMirror?.getValue() ?? ''
    return value === '' ? false : value
  }, RESPONSE_EDITOR, { timeout: timeoutMs })
  const text = await shown.jsonValue()
  await shown.dispose()
  if (typeof text !== 'string') throw new Error('GraphiQL showed no result')
  try {
    return JSON.parse(text)
  } catch {
    throw new Error(`GraphiQL shows a result that is not JSON: ${text}`)
  }
}
