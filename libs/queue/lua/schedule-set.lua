-- schedule-set: registers a schedule unless the same one is registered, so
-- that every worker of a service may register its schedules at start without
-- moving their next tick.
-- KEYS[1] schedules: schedules hash (name -> spec JSON)
-- KEYS[2] scheduled: scheduled sorted set (name -> next tick, ms)
-- ARGV[1] name
-- ARGV[2] spec
-- ARGV[3] first tick of a new or changed spec
-- Returns the schedule's next tick.
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur == ARGV[2] then
  local next = redis.call('ZSCORE', KEYS[2], ARGV[1])
  if next then return next end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return ARGV[3]
