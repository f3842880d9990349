import { runSuite } from './harness/suite.js'
import { suite } from './suites/sse.js'

runSuite(suite)
