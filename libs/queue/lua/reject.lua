-- reject: a task failed; move it from the consumer's processing list to the
-- rejected list and record it Failed with its reason. The body is kept so the
-- task can be inspected. Refused (returns 0) when the consumer no longer
-- holds the task.
-- KEYS[1] processing list of this consumer
-- KEYS[2] rejected list
-- KEYS[3] attempts hash
-- KEYS[4] status hash
-- KEYS[5] seq counter
-- ARGV[1] events channel
-- ARGV[2] task id
-- ARGV[3] worker name
-- ARGV[4] reason
-- Returns 1 if rejected, 0 if refused.
if redis.call('LREM', KEYS[1], -1, ARGV[2]) == 0 then return 0 end
local attempt = tonumber(redis.call('HGET', KEYS[3], ARGV[2]) or '0')
redis.call('LPUSH', KEYS[2], ARGV[2])
taskq_record(KEYS[4], KEYS[5], ARGV[1], ARGV[2], 'Failed', attempt, taskq_now(), ARGV[3], ARGV[4])
return 1
