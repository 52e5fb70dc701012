-- fetch: promote due Delayed/Retrying tasks to the ready list, then move up
-- to #workers tasks into the consumer's processing list, each recorded
-- InProgress with a fresh fencing token, in one round trip.
-- KEYS[1] ready list
-- KEYS[2] processing list of this consumer
-- KEYS[3] tasks hash
-- KEYS[4] attempts hash
-- KEYS[5] status hash
-- KEYS[6] seq counter
-- KEYS[7] consumers sorted set (id -> last heartbeat)
-- KEYS[8] delayed sorted set
-- KEYS[9] fence hash (id -> token)
-- ARGV[1] events channel
-- ARGV[2] consumer id
-- ARGV[3] ... one worker name per task wanted (recorded as the task's worker)
-- Returns -1 if the consumer is not registered (it was presumed dead and its
-- tasks recovered: it must register again before it may hold tasks).
-- Otherwise a flat array: ms until the earliest delayed task is due (-1: none),
-- then per task: id, encoded task ('' if none stored), attempt, token.
local now = taskq_now()
if not redis.call('ZSCORE', KEYS[7], ARGV[2]) then return -1 end
-- fetching is proof of life: refresh the heartbeat
redis.call('ZADD', KEYS[7], now, ARGV[2])

-- due tasks go to the consuming end: they run next, not behind a backlog
local due = redis.call('ZRANGEBYSCORE', KEYS[8], '-inf', string.format('%.0f', now), 'LIMIT', 0, 1000)
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[8], id)
  redis.call('RPUSH', KEYS[1], id)
end
local ids = {}
for _ = 3, #ARGV do
  local id = redis.call('RPOP', KEYS[1])
  if not id then break end
  ids[#ids + 1] = id
end
-- one seq number per record: Queued for each promotion, InProgress for each task handed out
taskq_reserve(KEYS[6], #due + #ids)
for _, id in ipairs(due) do
  taskq_record(KEYS[5], KEYS[6], ARGV[1], id, 'Queued', tonumber(redis.call('HGET', KEYS[4], id) or '0'), now, '', '')
end

local out = { -1 }
for n, id in ipairs(ids) do
  redis.call('LPUSH', KEYS[2], id)
  local attempt = redis.call('HINCRBY', KEYS[4], id, 1)
  local body = redis.call('HGET', KEYS[3], id)
  local _, token = taskq_record(KEYS[5], KEYS[6], ARGV[1], id, 'InProgress', attempt, now, ARGV[n + 2], '')
  redis.call('HSET', KEYS[9], id, string.format('%d', token))
  out[#out + 1] = id
  out[#out + 1] = body or ''
  out[#out + 1] = attempt
  out[#out + 1] = token
end
local first = redis.call('ZRANGE', KEYS[8], 0, 0, 'WITHSCORES')
if first[2] then out[1] = math.max(0, tonumber(first[2]) - now) end
return taskq_reply(out)
