/*
 * The dashboard's entry: one urql client for the page, and the app. Built by Vite
 * (examples/dashboard/vite.config.ts); `npm run dashboard` serves it beside the gateway.
 */
import './styles.css'
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { Provider } from 'urql'
import { App } from './App.js'
import { createDashboardClient } from './client.js'

const container = document.getElementById('root')
if (container === null) throw new Error('the page has no #root element')

createRoot(container).render(
  <StrictMode>
    <Provider value={createDashboardClient()}>
      <App />
    </Provider>
  </StrictMode>
)
