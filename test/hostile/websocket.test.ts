import { runSuite } from './harness/suite.js'
import { suite } from './suites/websocket.js'

runSuite(suite)
