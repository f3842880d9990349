import type { SEED } from '../../src/emulator/index.js'

export type TaskKey = keyof typeof SEED.tasks

/**
 * The primary account's 46 seeded tasks, newest start first (the default order of the task list),
 * worked out from src/emulator/seed.ts by the rules of its README, not read back from the emulator.
 */
export const START_TIME_DESC: readonly TaskKey[] = [
  'indexingCreation', 'draftCreation', 'readySecondMetadataRunning', 'readOnlyMediaAdditionRunning', 'partialIndexSnapshotCloneFailed',
  'partialIndexMediaAdditionLate', 'errorCreation', 'enrichedSnapshotClone', 'abortedCreation', 'enrichedSourceSnapshotRestore',
  'readOnlyMetadata', 'readOnlyMetadataFailed', 'readyReindexLate', 'readyReindexFailed', 'readyMediaAdditionLate',
  'readOnlyReindex', 'readOnlyMediaAddition', 'enrichedSourceEnrichmentFailed', 'readySecondSnapshotClone', 'partialIndexSnapshotRestore',
  'readOnlyCreation', 'readySecondMetadata', 'readySecondSnapshotRestoreFailed', 'readySnapshotClone', 'partialIndexReindex',
  'enrichedMetadata', 'partialIndexMediaAddition', 'enrichedSourceEnrichment', 'partialIndexCreation', 'readySnapshotRestore',
  'enrichedSourceMetadata', 'enrichedSourceCreation', 'readySecondReindex', 'readySecondMediaAddition', 'readySecondMediaAdditionFailed',
  'readyReindex', 'readyMediaAddition', 'readySecondCreation', 'readyMetadataFailed', 'readyEnrichmentFailed',
  'readyMetadata', 'readyCreation', 'hiddenSnapshotClone', 'hiddenMediaAdditionFailed', 'hiddenMetadata',
  'hiddenCreation'
]
