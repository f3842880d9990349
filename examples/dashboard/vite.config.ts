import { defineConfig } from 'vite'
import { dashboardConfig } from './config.js'

// `npx vite examples/dashboard` (or `vite build`, `vite preview`) with GATEWAY_URL naming the gateway
// (default http://127.0.0.1:4000); `npm run dashboard` also starts the gateway.
export default defineConfig(dashboardConfig(process.env.GATEWAY_URL ?? 'http://127.0.0.1:4000'))
