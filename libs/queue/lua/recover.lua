-- recover: return every task a consumer holds to the ready list and remove
-- the consumer from the registry. The janitor calls it for consumers whose
-- heartbeat is older than the stale limit (re-checked here, so a consumer
-- that beat again in the meantime is left alone); a consumer that shuts down
-- calls it for itself with a stale limit of -1 (unconditional).
-- Each task's fencing token is revoked, so the presumed-dead worker's late
-- ack or fail is refused. A task whose cancel was requested ends Cancelled
-- instead of running again.
-- KEYS[1] processing list of the consumer
-- KEYS[2] ready list
-- KEYS[3] consumers sorted set
-- KEYS[4] attempts hash
-- KEYS[5] status hash
-- KEYS[6] seq counter
-- KEYS[7] fence hash
-- KEYS[8] cancels hash
-- KEYS[9] finished sorted set
-- ARGV[1] events channel
-- ARGV[2] wake channel
-- ARGV[3] consumer id
-- ARGV[4] stale limit in ms (-1: recover regardless of heartbeat)
-- ARGV[5] reason recorded with each recovered task
-- Returns the number of tasks returned to the queue, or -1 if the consumer is alive.
local now = taskq_now()
local limit = tonumber(ARGV[4])
if limit >= 0 then
  local beat = redis.call('ZSCORE', KEYS[3], ARGV[3])
  if beat and tonumber(beat) > now - limit then return -1 end
end
redis.call('ZREM', KEYS[3], ARGV[3])
local n = 0
while true do
  -- newest first, each pushed to the consuming end: the oldest runs first
  local id = redis.call('LPOP', KEYS[1])
  if not id then break end
  redis.call('HDEL', KEYS[7], id)
  local attempt = tonumber(redis.call('HGET', KEYS[4], id) or '0')
  if redis.call('HDEL', KEYS[8], id) == 1 then
    redis.call('ZADD', KEYS[9], now, id)
    taskq_record(KEYS[5], KEYS[6], ARGV[1], id, 'Cancelled', attempt, now, '', 'cancelled; its worker stopped')
  else
    redis.call('RPUSH', KEYS[2], id)
    taskq_record(KEYS[5], KEYS[6], ARGV[1], id, 'Queued', attempt, now, '', ARGV[5])
    n = n + 1
  end
end
if n > 0 then redis.call('PUBLISH', ARGV[2], n) end
return n
