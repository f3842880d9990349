import { runSuite } from './harness/suite.js'
import { suite } from './suites/upstream-stalled.js'

runSuite(suite)
