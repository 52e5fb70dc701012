-- schedule-advance: moves a schedule from the tick just enqueued to its next
-- one, only if it is still at that tick with the same spec: two janitors
-- never both move it, and a schedule changed meanwhile keeps its new tick.
-- KEYS[1] schedules: schedules hash (name -> spec JSON)
-- KEYS[2] scheduled: scheduled sorted set (name -> next tick, ms)
-- ARGV[1] name
-- ARGV[2] spec the tick was enqueued for
-- ARGV[3] the tick enqueued, ms
-- ARGV[4] the next tick, ms
-- Returns 1 if moved, 0 if not.
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
local at = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not at or tonumber(at) ~= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
return 1
