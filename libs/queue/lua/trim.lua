-- trim: retention. Forgets Done and Cancelled tasks finished longer ago than
-- the age limit, and the oldest beyond the count limit, at most ARGV[3] per
-- call (the janitor calls again while there is more).
-- KEYS[1] finished sorted set (id -> finish time)
-- KEYS[2] tasks hash
-- KEYS[3] attempts hash
-- KEYS[4] status hash
-- KEYS[5] history hash
-- KEYS[6] fence hash
-- KEYS[7] cancels hash
-- KEYS[8] recoveries hash
-- ARGV[1] max age, ms
-- ARGV[2] max count
-- ARGV[3] most tasks to forget in this call
-- Returns the number of tasks forgotten.
local now = taskq_now()
local budget = tonumber(ARGV[3])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now - tonumber(ARGV[1])), 'LIMIT', 0, budget)
local excess = redis.call('ZCARD', KEYS[1]) - #ids - tonumber(ARGV[2])
if excess > 0 and #ids < budget then
  local more = redis.call('ZRANGE', KEYS[1], #ids, #ids + math.min(excess, budget - #ids) - 1)
  for _, id in ipairs(more) do ids[#ids + 1] = id end
end
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  for k = 2, 8 do redis.call('HDEL', KEYS[k], id) end
end
return #ids
