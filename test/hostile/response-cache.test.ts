import { runSuite } from './harness/suite.js'
import { suite } from './suites/response-cache.js'

runSuite(suite)
