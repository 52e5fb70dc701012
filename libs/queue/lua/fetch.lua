-- fetch: one round trip for a worker pool's traffic. First acknowledges the
-- tasks its workers finished (each recorded Done, refused on its own unless
-- this consumer holds it under the same fencing token), then promotes due
-- Delayed/Retrying tasks to the ready list, then moves up to one task per
-- named worker into the consumer's processing list, each recorded
-- InProgress with a fresh fencing token. With no acks it is a plain fetch;
-- with no workers, a plain batch ack.
-- KEYS[1] ready list
-- KEYS[2] processing list of this consumer
-- KEYS[3] tasks hash
-- KEYS[4] attempts hash
-- KEYS[5] status hash
-- KEYS[6] seq counter
-- KEYS[7] consumers sorted set (id -> last heartbeat)
-- KEYS[8] delayed sorted set
-- KEYS[9] fence hash (id -> token)
-- KEYS[10] cancels hash
-- KEYS[11] finished sorted set (retention)
-- KEYS[12] recoveries hash
-- ARGV[1] events channel
-- ARGV[2] consumer id
-- ARGV[3] number of acks A
-- ARGV[4 .. 3+3A] ack triples (task id, worker name, fencing token)
-- ARGV[4+3A ..] one worker name per task wanted (recorded as the task's worker)
-- Returns -1 if the consumer is not registered (it was presumed dead and its
-- tasks recovered: it must register again; nothing was done).
-- Otherwise a flat array: ms until the earliest delayed task is due (-1:
-- none), A ack flags (1 acknowledged, 0 refused), then per task: id, encoded
-- task ('' if none stored), attempt, token.
local now = taskq_now()
if not redis.call('ZSCORE', KEYS[7], ARGV[2]) then return -1 end
-- fetching is proof of life: refresh the heartbeat
redis.call('ZADD', KEYS[7], now, ARGV[2])

local acks = tonumber(ARGV[3])
local firstWorker = 4 + 3 * acks
-- acks, first pass: which stand (fencing token and processing list)
local acked = {}
local nAcked = 0
for i = 4, firstWorker - 1, 3 do
  local id = ARGV[i]
  if redis.call('HGET', KEYS[9], id) == ARGV[i + 2] and redis.call('LREM', KEYS[2], -1, id) == 1 then
    acked[i] = true
    nAcked = nAcked + 1
  end
end

-- due tasks go to the consuming end: they run next, not behind a backlog
local due = redis.call('ZRANGEBYSCORE', KEYS[8], '-inf', string.format('%.0f', now), 'LIMIT', 0, 1000)
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[8], id)
  redis.call('RPUSH', KEYS[1], id)
end
local ids = {}
for _ = firstWorker, #ARGV do
  local id = redis.call('RPOP', KEYS[1])
  if not id then break end
  ids[#ids + 1] = id
end
-- one seq number per record: Done per ack, Queued per promotion, InProgress per task handed out
taskq_reserve(KEYS[6], nAcked + #due + #ids)
local out = { -1 }
-- cancel requests and recovery counts are rare: look for them only if there are any
local cancels = nAcked > 0 and redis.call('EXISTS', KEYS[10]) == 1
local recoveries = nAcked > 0 and redis.call('EXISTS', KEYS[12]) == 1
for i = 4, firstWorker - 1, 3 do
  local id = ARGV[i]
  if acked[i] then
    local attempt = tonumber(redis.call('HGET', KEYS[4], id) or '0')
    redis.call('HDEL', KEYS[9], id)
    if cancels then redis.call('HDEL', KEYS[10], id) end
    if recoveries then redis.call('HDEL', KEYS[12], id) end
    redis.call('ZADD', KEYS[11], now, id)
    taskq_record(KEYS[5], KEYS[6], ARGV[1], id, 'Done', attempt, now, ARGV[i + 1], '')
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
for _, id in ipairs(due) do
  taskq_record(KEYS[5], KEYS[6], ARGV[1], id, 'Queued', tonumber(redis.call('HGET', KEYS[4], id) or '0'), now, '', '')
end

for n, id in ipairs(ids) do
  redis.call('LPUSH', KEYS[2], id)
  local attempt = redis.call('HINCRBY', KEYS[4], id, 1)
  local body = redis.call('HGET', KEYS[3], id)
  local _, token = taskq_record(KEYS[5], KEYS[6], ARGV[1], id, 'InProgress', attempt, now, ARGV[firstWorker + n - 1], '')
  redis.call('HSET', KEYS[9], id, string.format('%d', token))
  out[#out + 1] = id
  out[#out + 1] = body or ''
  out[#out + 1] = attempt
  out[#out + 1] = token
end
local first = redis.call('ZRANGE', KEYS[8], 0, 0, 'WITHSCORES')
if first[2] then out[1] = math.max(0, tonumber(first[2]) - now) end
return taskq_reply(out)
