-- heartbeat: register a consumer, or prove it is still alive.
-- KEYS[1] consumers sorted set (id -> last heartbeat, Redis server time ms)
-- ARGV[1] consumer id
-- ARGV[2] '1' to register (add if absent), '0' to beat only if registered
-- Returns 1 if the consumer is registered now, 0 if a beat found it removed
-- (the janitor presumed it dead and recovered its tasks).
if ARGV[2] ~= '1' and not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], taskq_now(), ARGV[1])
return 1
