import { runSuite } from './harness/suite.js'
import { suite } from './suites/redis.js'

runSuite(suite)
