-- ack: a task finished; remove it from the consumer's processing list and
-- record it Done. Refused (returns 0, nothing written) when the consumer no
-- longer holds the task, e.g. the janitor recovered it from a worker that was
-- presumed dead: a late ack must never overwrite a newer status.
-- KEYS[1] processing list of this consumer
-- KEYS[2] tasks hash
-- KEYS[3] attempts hash
-- KEYS[4] status hash
-- KEYS[5] seq counter
-- ARGV[1] events channel
-- ARGV[2] task id
-- ARGV[3] worker name
-- Returns 1 if acknowledged, 0 if refused.
if redis.call('LREM', KEYS[1], -1, ARGV[2]) == 0 then return 0 end
local attempt = tonumber(redis.call('HGET', KEYS[3], ARGV[2]) or '0')
-- the body is no longer needed once the task is Done; the status record stays
redis.call('HDEL', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[2])
taskq_record(KEYS[4], KEYS[5], ARGV[1], ARGV[2], 'Done', attempt, taskq_now(), ARGV[3], '')
return 1
