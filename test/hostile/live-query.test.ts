import { runSuite } from './harness/suite.js'
import { suite } from './suites/live-query.js'

runSuite(suite)
