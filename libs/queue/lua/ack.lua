-- ack: a task finished; record it Done. Refused (returns 0, nothing written)
-- unless this consumer still holds the task under the same fencing token: a
-- late ack from a worker whose task was recovered and fetched again never
-- overwrites the newer status.
-- KEYS[1] processing list of this consumer
-- KEYS[2] attempts hash
-- KEYS[3] status hash
-- KEYS[4] seq counter
-- KEYS[5] fence hash
-- KEYS[6] cancels hash
-- KEYS[7] finished sorted set (retention)
-- KEYS[8] recoveries hash
-- ARGV[1] events channel
-- ARGV[2] task id
-- ARGV[3] worker name
-- ARGV[4] fencing token of the fetch
-- Returns 1 if acknowledged, 0 if refused.
if redis.call('HGET', KEYS[5], ARGV[2]) ~= ARGV[4] then return 0 end
if redis.call('LREM', KEYS[1], -1, ARGV[2]) == 0 then return 0 end
local now = taskq_now()
local attempt = tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0')
redis.call('HDEL', KEYS[5], ARGV[2])
redis.call('HDEL', KEYS[6], ARGV[2])
redis.call('HDEL', KEYS[8], ARGV[2])
redis.call('ZADD', KEYS[7], now, ARGV[2])
taskq_record(KEYS[3], KEYS[4], ARGV[1], ARGV[2], 'Done', attempt, now, ARGV[3], '')
return 1
