/*
 * The Lua scripts of the poll leases (live-leases.ts), each one atomic step in Redis. Times are
 * Redis' own (TIME), so replicas' clocks need not agree. Replies:
 * ROUND {1 if this replica holds the lease now else 0, the lease's PTTL, 1 if there is a state else 0,
 * 1 if the state is fresh, 2 if the dataset was written after the poll that confirmed it, else 0 (older than
 * its window), and the state's epoch, seq and value when its
 * version differs from the one passed}; PUBLISH nil when the lease is not this replica's, {} when it
 * only renewed, {epoch, seq} when it published; RELEASE 1 when it released; WRITTEN the time it marked.
 */

/**
 * KEYS lease, state, want (the replicas with subscribers that do not hold the lease), written (the
 * dataset's last write); ARGV me, leaseMs, stateMs, known epoch, known seq, wantMs, freshMs, the
 * prefix of the replicas' lease counts, their expiry, channel, '1' if this replica counts the lease
 * as its own (its count then already has it; losing it takes it off).
 *
 * A replica that holds (or takes) the lease hands it to the replica wanting it that holds the fewest
 * leases, when that one holds at least two fewer than itself: leases spread over the replicas with
 * subscribers instead of staying with whichever asked first. The replica handed to is told on the
 * channel and polls at once, in place of the poll this round would have made.
 *
 * A state is fresh when a poll that started within freshMs (or within the `until` its holder stored:
 * its next poll's delay plus half an interval, longer for a settled resource) confirmed it, after the
 * dataset's last write through any replica: only a fresh state is shown to a new subscriber before a poll.
 */
export const ROUND = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local me = ARGV[1]
local function held (replica) return tonumber(redis.call('GET', ARGV[8] .. replica) or '0') end
local function count (replica, by)
  redis.call('INCRBY', ARGV[8] .. replica, by)
  redis.call('PEXPIRE', ARGV[8] .. replica, ARGV[9])
end
local counted = ARGV[11] == '1'
local holder = redis.call('GET', KEYS[1])
local mine = 0
if holder == me then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  mine = 1
elseif not holder then
  redis.call('SET', KEYS[1], me, 'PX', ARGV[2])
  if not counted then count(me, 1) end
  mine = 1
elseif counted then
  count(me, -1)
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
if mine == 1 then
  redis.call('ZREM', KEYS[3], me)
  local best, fewest = nil, nil
  for _, replica in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
    local n = held(replica)
    if fewest == nil or n < fewest then best, fewest = replica, n end
  end
  if best and held(me) - fewest >= 2 then
    redis.call('SET', KEYS[1], best, 'PX', ARGV[2])
    count(me, -1)
    count(best, 1)
    redis.call('ZREM', KEYS[3], best)
    redis.call('PUBLISH', ARGV[10], 'handover ' .. best)
    mine = 0
  end
end
if mine == 0 then redis.call('ZADD', KEYS[3], now + tonumber(ARGV[6]), me) end
redis.call('PEXPIRE', KEYS[3], ARGV[6])
if mine == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
local ttl = redis.call('PTTL', KEYS[1])
local s = redis.call('HMGET', KEYS[2], 'epoch', 'seq', 'value', 'polled', 'until')
if not s[1] then return {mine, ttl, 0, 0} end
local fresh = 0
if not s[4] then
  -- Published by a gateway from before freshness was kept (a rolling upgrade): taken as it was then.
  fresh = 1
else
  local polled = tonumber(s[4]) or 0
  local window = math.max(tonumber(ARGV[7]), tonumber(s[5] or '0') or 0)
  if polled <= (tonumber(redis.call('GET', KEYS[4])) or 0) then fresh = 2
  elseif polled >= now - window then fresh = 1 end
end
if s[1] ~= ARGV[4] or tonumber(s[2]) ~= tonumber(ARGV[5]) then
  return {mine, ttl, 1, fresh, s[1], tonumber(s[2]), s[3]}
end
return {mine, ttl, 1, fresh}
`

/**
 * KEYS lease, state; ARGV me, leaseMs, stateMs, value ('' when it did not change or the poll failed),
 * a new epoch (used when there is no state), channel, how many ms ago the poll began ('' when it
 * failed: it confirms nothing), this replica's lease count (one less when the lease was lost). The
 * poll's start, in Redis' time, is what freshness is judged by, and leaseMs (the holder's next poll
 * plus half an interval) how long it stays fresh (`until`).
 */
export const PUBLISH = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  if tonumber(redis.call('GET', ARGV[8]) or '0') > 0 then redis.call('DECR', ARGV[8]) end
  return nil
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local polled = ''
if ARGV[7] ~= '' then
  local t = redis.call('TIME')
  polled = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[7])
end
if ARGV[4] == '' then
  if polled ~= '' and redis.call('EXISTS', KEYS[2]) == 1 then redis.call('HSET', KEYS[2], 'polled', polled, 'until', ARGV[2]) end
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  return {}
end
local epoch = redis.call('HGET', KEYS[2], 'epoch')
local seq = 1
if epoch then seq = tonumber(redis.call('HGET', KEYS[2], 'seq')) + 1 else epoch = ARGV[5] end
redis.call('HSET', KEYS[2], 'epoch', epoch, 'seq', seq, 'value', ARGV[4], 'polled', polled, 'until', ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('PUBLISH', ARGV[6], 'change ' .. epoch .. ' ' .. seq .. ' ' .. ARGV[4])
return {epoch, seq}
`

/** KEYS lease, want; ARGV me, channel, this replica's lease count. */
export const RELEASE = `
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  if tonumber(redis.call('GET', ARGV[3]) or '0') > 0 then redis.call('DECR', ARGV[3]) end
  redis.call('PUBLISH', ARGV[2], 'released')
  return 1
end
return 0
`

/** KEYS the written marks of the datasets a write touched; ARGV how long a mark is kept, channel, message. */
export const WRITTEN = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for _, key in ipairs(KEYS) do redis.call('SET', key, now, 'PX', ARGV[1]) end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return now
`
