/** A hash of what the GraphiQL bundle is made from; manifest.json records the one it was built from. */
export function sourceHash (): Promise<string>
