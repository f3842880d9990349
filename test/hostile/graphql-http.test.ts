import { runSuite } from './harness/suite.js'
import { suite } from './suites/graphql-http.js'

runSuite(suite)
