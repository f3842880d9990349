import { runSuite } from './harness/suite.js'
import { suite } from './suites/rest.js'

runSuite(suite)
