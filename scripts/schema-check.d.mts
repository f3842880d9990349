export const DEFAULT_SCHEMA: string
export const DEFAULT_CONTRACT: string
/** Diffs `schema` against the published `contract`, writes the report with `log`, returns the exit code (1: something breaks). */
export function checkSchema (options?: { schema?: string, contract?: string, log?: (line: string) => void }): Promise<number>
