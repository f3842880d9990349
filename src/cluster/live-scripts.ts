/*
 * The Lua scripts of the poll leases (live-leases.ts), each one atomic step in Redis. Replies:
 * ROUND {1 if this replica holds the lease now else 0, the lease's PTTL, 1 if there is a state else 0,
 * and the state's epoch, seq and value when its version differs from the one passed}; PUBLISH nil when the lease is not this
 * replica's, {} when it only renewed, {epoch, seq} when it published; RELEASE 1 when it released.
 */

/** KEYS lease, state; ARGV me, leaseMs, stateMs, known epoch, known seq. */
export const ROUND = `
local holder = redis.call('GET', KEYS[1])
local mine = 0
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  mine = 1
elseif not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  mine = 1
end
if mine == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
local ttl = redis.call('PTTL', KEYS[1])
local s = redis.call('HMGET', KEYS[2], 'epoch', 'seq', 'value')
if not s[1] then return {mine, ttl, 0} end
if s[1] ~= ARGV[4] or tonumber(s[2]) ~= tonumber(ARGV[5]) then
  return {mine, ttl, 1, s[1], tonumber(s[2]), s[3]}
end
return {mine, ttl, 1}
`

/** KEYS lease, state; ARGV me, leaseMs, stateMs, value ('' renews only), a new epoch (used when there is no state), channel. */
export const PUBLISH = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return nil end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if ARGV[4] == '' then
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  return {}
end
local epoch = redis.call('HGET', KEYS[2], 'epoch')
local seq = 1
if epoch then seq = tonumber(redis.call('HGET', KEYS[2], 'seq')) + 1 else epoch = ARGV[5] end
redis.call('HSET', KEYS[2], 'epoch', epoch, 'seq', seq, 'value', ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('PUBLISH', ARGV[6], 'change ' .. epoch .. ' ' .. seq .. ' ' .. ARGV[4])
return {epoch, seq}
`

/** KEYS lease; ARGV me, channel. */
export const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], 'released')
  return 1
end
return 0
`
