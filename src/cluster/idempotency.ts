import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyBaseLogger } from 'fastify'
import type { Redis } from 'ioredis'
import { ERROR_CODES, GatewayError, type ErrorCode } from '../errors.js'
import { digest, IdempotencyStoreUnavailable, type Claim, type IdempotencyRecords } from '../domain/enrichment/idempotency.js'
import type { RedisLink } from './redis.js'

/*
 * Idempotency records shared by the replicas (REDIS_URL), with the in-process store's meaning: the
 * first call with a key claims it atomically (a script: read, or write a pending record, in one
 * step); a duplicate on any replica waits for the first result; another body is a mismatch; a failure
 * frees the key. One record per (scope, key), both as digests, under `idem:`:
 *   pending  {request, owner}              PX 3 x REDIS_HEARTBEAT_MS, renewed every beat while its owner writes
 *   done     {request, owner, value}       PX windowMs from the success
 * A failed attempt deletes its own pending record and leaves its error (code and message only) under
 * `idem-failed:<owner>` for a minute, so that duplicates waiting on other replicas answer with it.
 * Waiters poll the record (25 ms, doubling to 200 ms): duplicates are rare and short-lived. A pending
 * record whose owner died expires unrenewed; its waiters then learn that the outcome is unknown.
 * Redis unreachable or silent past the link's deadline (REDIS_COMMAND_TIMEOUT_MS) at claim time:
 * IdempotencyStoreUnavailable, before anything is sent upstream; a claim that reached a stalled Redis
 * is withdrawn right behind it on the same connection, so the key is free when Redis resumes.
 */

const CLAIM = `
local current = redis.call('GET', KEYS[1])
if current then return current end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false`

/** Renews or deletes the pending record only while it is still this owner's. */
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return 1`
/** Takes back a claim that may have been written after its caller stopped waiting (the request was refused). */
const WITHDRAW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`

const FAILURE_KEPT_MS = 60_000

interface StoredRecord<T> {
  request: string
  owner: string
  state: 'pending' | 'done'
  value?: T
}

interface StoredFailure {
  code: ErrorCode
  message: string
  upstreamStatus?: number
}

export interface SharedIdempotencyOptions {
  windowMs: number
  /** How long a duplicate waits for the first call before giving up (the first call's own bound, with margin). */
  maxWaitMs: number
}

export class RedisIdempotencyStore<T> implements IdempotencyRecords<T> {
  private readonly pendingMs: number

  constructor (private readonly link: RedisLink, private readonly options: SharedIdempotencyOptions, private readonly log: FastifyBaseLogger) {
    // A pending record lives three heartbeats unrenewed, as a replica's connection slots do: a dead
    // owner's duplicates learn it that soon.
    this.pendingMs = link.heartbeatMs * 3
  }

  async claim (scope: string, key: string, args: string): Promise<Claim<T>> {
    const recordKey = this.recordKey(scope, key)
    const request = digest(args)
    const owner = randomUUID()
    const pending = JSON.stringify({ request, owner, state: 'pending' } satisfies StoredRecord<T>)
    let found: string | null
    let sent = false
    try {
      found = await this.link.run(async (redis) => {
        sent = true
        return await redis.eval(CLAIM, 1, recordKey, pending, this.pendingMs)
      }) as string | null
    } catch (err) {
      // Not awaited: it runs after the claim whenever Redis resumes (or fails with the connection).
      if (sent) this.link.commands.eval(WITHDRAW, 1, recordKey, pending).catch(() => {})
      throw new IdempotencyStoreUnavailable({ logDetail: { redis: errorText(err) } })
    }
    if (found !== null) {
      const record = parseRecord<T>(found)
      if (record.request !== request) return { kind: 'mismatch' }
      if (record.state === 'done') return { kind: 'replay', result: Promise.resolve(record.value as T) }
      const result = this.waitFor(recordKey, request, record.owner)
      result.catch(() => {})
      return { kind: 'replay', result }
    }
    // Renewed while the write runs, so that a long write is not taken for a dead owner's.
    const renewal = setInterval(() => {
      this.link.run(async (redis) => await redis.eval(RENEW, 1, recordKey, pending, this.pendingMs)).catch(() => {})
    }, this.link.heartbeatMs)
    renewal.unref()
    return {
      kind: 'owner',
      succeed: async (value, alsoScopes = []) => {
        clearInterval(renewal)
        const done = JSON.stringify({ request, owner, state: 'done', value } satisfies StoredRecord<T>)
        const keys = new Set([recordKey, ...alsoScopes.map((where) => this.recordKey(where, key))])
        try {
          await this.link.run(async (redis) => {
            const multi = redis.multi()
            for (const name of keys) multi.set(name, done, 'PX', this.options.windowMs)
            return await multi.exec()
          })
        } catch (err) {
          // The write happened; only its record is lost: a retry with the key will write again.
          this.log.error({ err: { message: errorText(err) } }, 'Idempotency: the result of a write could not be recorded in Redis; a retry with its key will not be recognised')
        }
      },
      fail: (err) => {
        clearInterval(renewal)
        const failure = JSON.stringify(failureOf(err))
        const release = async (redis: Redis): Promise<unknown> =>
          await redis.eval(RELEASE, 2, recordKey, this.failureKey(owner), pending, failure, FAILURE_KEPT_MS)
        this.link.run(release).catch((cause: unknown) => {
          this.log.warn({ err: { message: errorText(cause) } }, 'Idempotency: a failed write could not release its key in Redis; the key frees itself when its pending record expires')
        })
      }
    }
  }

  /** The first call's result, as its owner (on any replica) records it. */
  private async waitFor (recordKey: string, request: string, firstOwner: string): Promise<T> {
    const deadline = Date.now() + this.options.maxWaitMs
    let owner = firstOwner
    let delay = 25
    for (;;) {
      await sleep(delay)
      delay = Math.min(delay * 2, 200)
      let raw: string | null
      try {
        raw = await this.link.run(async (redis) => await redis.get(recordKey))
      } catch (err) {
        throw new IdempotencyStoreUnavailable({ logDetail: { redis: errorText(err) } })
      }
      const record = raw === null ? null : parseRecord<T>(raw)
      if (record !== null && record.request === request && record.state === 'done') return record.value as T
      if (record?.owner !== owner) {
        const failure = await this.link.run(async (redis) => await redis.get(this.failureKey(owner))).catch(() => null)
        if (failure !== null) throw failureError(failure)
        if (record === null) throw vanished()
        if (record.request !== request) throw new GatewayError('CONFLICT', 'The idempotency key was taken for another request while this one waited for the first; use a new key.')
        // Its owner died and another duplicate claimed the key since: wait for that one.
        owner = record.owner
      }
      if (Date.now() > deadline) {
        throw new GatewayError(
          'UPSTREAM_TIMEOUT',
          'The first request with this idempotency key is still under way; nothing was sent to Visual Layer for this one. Try again shortly with the same key to get its result.'
        )
      }
    }
  }

  private recordKey (scope: string, key: string): string {
    return this.link.key(`idem:${digest(`${scope}\u0000${key}`)}`)
  }

  private failureKey (owner: string): string {
    return this.link.key(`idem-failed:${owner}`)
  }
}

function parseRecord<T> (raw: string): StoredRecord<T> {
  return JSON.parse(raw) as StoredRecord<T>
}

/** What crosses Redis of a failure: its code and message (written for callers), never its cause. */
function failureOf (err: unknown): StoredFailure {
  if (err instanceof GatewayError) {
    return { code: err.code, message: err.message, ...(err.upstreamStatus === undefined ? {} : { upstreamStatus: err.upstreamStatus }) }
  }
  return { code: 'INTERNAL_SERVER_ERROR', message: 'The first request with this idempotency key failed; try again.' }
}

function failureError (raw: string): GatewayError {
  const failure = JSON.parse(raw) as StoredFailure
  const code = (ERROR_CODES as readonly string[]).includes(failure.code) ? failure.code : 'INTERNAL_SERVER_ERROR'
  return new GatewayError(code, failure.message, failure.upstreamStatus === undefined ? {} : { upstreamStatus: failure.upstreamStatus })
}

function vanished (): GatewayError {
  return new GatewayError(
    'UPSTREAM_UNAVAILABLE',
    'The first request with this idempotency key ended without a recorded outcome (the gateway replica handling it stopped), so whether an ' +
      'enriched copy is being built is unknown. Check the source dataset\'s enrichment tasks before trying again; the key is free again.'
  )
}

function errorText (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
