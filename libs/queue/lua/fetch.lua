-- fetch: move up to #workers tasks from the ready list to the consumer's
-- processing list and record each InProgress, in one round trip.
-- KEYS[1] ready list
-- KEYS[2] processing list of this consumer
-- KEYS[3] tasks hash
-- KEYS[4] attempts hash
-- KEYS[5] status hash
-- KEYS[6] seq counter
-- KEYS[7] consumers sorted set (id -> last heartbeat)
-- ARGV[1] events channel
-- ARGV[2] consumer id
-- ARGV[3] ... one worker name per task wanted (recorded as the task's worker)
-- Returns -1 if the consumer is not registered (it was presumed dead and its
-- tasks recovered: it must register again before it may hold tasks);
-- otherwise a flat array: id, encoded task ('' if none is stored), attempt, ...
local now = taskq_now()
if not redis.call('ZSCORE', KEYS[7], ARGV[2]) then return -1 end
-- fetching is proof of life: refresh the heartbeat
redis.call('ZADD', KEYS[7], now, ARGV[2])
local out = {}
for i = 3, #ARGV do
  local id = redis.call('RPOP', KEYS[1])
  if not id then break end
  redis.call('LPUSH', KEYS[2], id)
  local attempt = redis.call('HINCRBY', KEYS[4], id, 1)
  local body = redis.call('HGET', KEYS[3], id)
  taskq_record(KEYS[5], KEYS[6], ARGV[1], id, 'InProgress', attempt, now, ARGV[i], '')
  out[#out + 1] = id
  out[#out + 1] = body or ''
  out[#out + 1] = attempt
end
return taskq_reply(out)
