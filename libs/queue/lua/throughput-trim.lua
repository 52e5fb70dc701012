-- throughput-trim: the janitor forgets the per-minute outcome counts (see
-- QueueKeys.throughput) of minutes that began more than ARGV[1] ms ago
-- (Redis time). The hash holds two fields per minute with outcomes, so
-- reading all its field names is cheap.
-- KEYS[1] throughput: outcomes per minute (fields '<minute start ms>:done' and '<minute start ms>:failed')
-- ARGV[1] max age, ms
-- Returns the number of fields deleted.
local cutoff = taskq_now() - tonumber(ARGV[1])
local old = {}
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  local minute = tonumber(string.match(field, '^(%d+):') or '')
  -- a field of another shape is no minute's: it goes too
  if not minute or minute < cutoff then old[#old + 1] = field end
end
if #old > 0 then redis.call('HDEL', KEYS[1], taskq_unpack(old)) end
return #old
