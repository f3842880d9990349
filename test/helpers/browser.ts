import { existsSync } from 'node:fs'
import { chromium, type Browser, type Page } from 'playwright-core'
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
  if (reason !== null) process.stderr.write(`skipping "${name}": ${reason}\n`)
  // Skipped only where Chromium is not installed and not required (a developer machine without it);
  // CI installs it and sets REQUIRE_BROWSER=1, so there these tests always run.
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
