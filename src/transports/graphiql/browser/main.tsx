/*
 * The GraphiQL page's script, bundled by scripts/build-graphiql.mjs into dist/graphiql/ and served
 * by ../plugin.ts. Reads the endpoint and the default headers text from `#graphiql`'s data
 * attributes, opens on the example operations of docs/graphql.md (one tab each), with the docs, the explorer and the
 * history in the sidebar, and in token modes the headers editor open on where the token goes.
 */
import './csp-nonce.js'
import './workers.js'
import 'graphiql/style.css'
import '@graphiql/plugin-explorer/style.css'
import './page.css'
import { explorerPlugin } from '@graphiql/plugin-explorer'
import { GraphiQL, HISTORY_PLUGIN } from 'graphiql'
import { createRoot } from 'react-dom/client'
import { EXAMPLE_TABS } from './examples.js'
import { gatewayFetcher } from './fetcher.js'

const container = document.getElementById('graphiql')
if (container === null) throw new Error('the page has no #graphiql element')
const endpoint = new URL(container.dataset.endpoint ?? '/graphql', window.location.href)
const headers = container.dataset.defaultHeaders ?? ''
const plugins = [explorerPlugin(), HISTORY_PLUGIN]

createRoot(container).render(
  <GraphiQL
    fetcher={gatewayFetcher(endpoint)}
    defaultTabs={EXAMPLE_TABS.map((tab) => ({ ...tab, headers }))}
    defaultHeaders={headers}
    plugins={plugins}
    isHeadersEditorEnabled
    shouldPersistHeaders={false}
    {...(headers === '' ? {} : { defaultEditorToolsVisibility: 'headers' as const })}
  />
)
