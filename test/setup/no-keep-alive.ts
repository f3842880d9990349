import { Agent, setGlobalDispatcher } from 'undici'

/*
 * A setup file of the gateway project (vitest.config.ts): the tests' fetch and graphql-sse clients
 * keep no connection alive. app.close() waits for every connection to end, and one kept alive by
 * undici (4 s idle), or opened for a request never sent, would hold each gateway's close for seconds.
 * Not in the hostile project, whose harness measures with agents of its own.
 */
setGlobalDispatcher(new Agent({ pipelining: 0 }))
