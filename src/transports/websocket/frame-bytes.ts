import type { RawData } from 'ws'

/** The bytes of a message as ws gives it. */
export function lengthOf (message: RawData): number {
  if (Array.isArray(message)) return message.reduce((sum, part) => sum + part.length, 0)
  return message instanceof ArrayBuffer ? message.byteLength : message.length
}

/** Bytes a text message of `length` bytes takes on the wire from the server (unmasked): header and payload. */
export function frameLength (length: number): number {
  return length + (length < 126 ? 2 : length < 65_536 ? 4 : 10)
}
