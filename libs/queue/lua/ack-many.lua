-- ack-many: tasks finished; record each Done, in one round trip. Each task is
-- refused on its own (flag 0, nothing written for it) unless this consumer
-- still holds it under the same fencing token (see ack.lua).
-- KEYS[1] processing list of this consumer
-- KEYS[2] attempts hash
-- KEYS[3] status hash
-- KEYS[4] seq counter
-- KEYS[5] fence hash
-- KEYS[6] cancels hash
-- KEYS[7] finished sorted set (retention)
-- KEYS[8] recoveries hash
-- ARGV[1] events channel
-- ARGV[2], ARGV[3], ARGV[4] ... triples (task id, worker name, fencing token)
-- Returns one flag per task: 1 acknowledged, 0 refused.
local now = taskq_now()
-- first pass: which acks stand (fencing token and processing list)
local ok = {}
local n = 0
for i = 2, #ARGV, 3 do
  local id = ARGV[i]
  if redis.call('HGET', KEYS[5], id) == ARGV[i + 2] and redis.call('LREM', KEYS[1], -1, id) == 1 then
    ok[i] = true
    n = n + 1
  end
end
taskq_reserve(KEYS[4], n)
-- cancel requests and recovery counts are rare: look for them only if there are any
local cancels = redis.call('EXISTS', KEYS[6]) == 1
local recoveries = redis.call('EXISTS', KEYS[8]) == 1
local out = {}
for i = 2, #ARGV, 3 do
  local id = ARGV[i]
  if ok[i] then
    local attempt = tonumber(redis.call('HGET', KEYS[2], id) or '0')
    redis.call('HDEL', KEYS[5], id)
    if cancels then redis.call('HDEL', KEYS[6], id) end
    if recoveries then redis.call('HDEL', KEYS[8], id) end
    redis.call('ZADD', KEYS[7], now, id)
    taskq_record(KEYS[3], KEYS[4], ARGV[1], id, 'Done', attempt, now, ARGV[i + 1], '')
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return taskq_reply(out)
