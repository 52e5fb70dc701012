-- enqueue: add tasks to the ready list and record them Queued.
-- KEYS[1] ready list
-- KEYS[2] tasks hash (id -> encoded task)
-- KEYS[3] attempts hash
-- KEYS[4] status hash
-- KEYS[5] seq counter
-- ARGV[1] events channel
-- ARGV[2] wake channel
-- ARGV[3], ARGV[4] ... pairs of (task id, encoded task)
-- A task id that already has a status record is skipped (enqueue is
-- idempotent per id: the existing task is left as it is).
-- Returns the number of tasks enqueued.
local now = taskq_now()
local n = 0
for i = 3, #ARGV, 2 do
  local id = ARGV[i]
  if redis.call('HEXISTS', KEYS[4], id) == 0 then
    redis.call('HSET', KEYS[2], id, ARGV[i + 1])
    redis.call('HSET', KEYS[3], id, 0)
    redis.call('LPUSH', KEYS[1], id)
    taskq_record(KEYS[4], KEYS[5], ARGV[1], id, 'Queued', 0, now, '', '')
    n = n + 1
  end
end
if n > 0 then redis.call('PUBLISH', ARGV[2], n) end
return n
