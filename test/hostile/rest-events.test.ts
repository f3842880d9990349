import { runSuite } from './harness/suite.js'
import { suite } from './suites/rest-events.js'

runSuite(suite)
