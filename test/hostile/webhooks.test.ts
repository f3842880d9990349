import { runSuite } from './harness/suite.js'
import { suite } from './suites/webhooks.js'

runSuite(suite)
