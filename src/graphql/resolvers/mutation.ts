import { GatewayError } from '../../errors.js'
import type { MutationResolvers } from '../generated/types.js'

// The writes land in their own issue; until then they answer plainly instead of with a null error.
const notYet = (name: string) => async (): Promise<never> => {
  throw new GatewayError('INTERNAL_SERVER_ERROR', `Mutation.${name} is not available in this version of the gateway yet.`)
}

export const Mutation: MutationResolvers = {
  enrichDataset: notYet('enrichDataset'),
  abortTask: notYet('abortTask'),
  retryTask: notYet('retryTask')
}
