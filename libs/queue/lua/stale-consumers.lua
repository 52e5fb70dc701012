-- stale-consumers: the consumers whose last heartbeat is older than the limit.
-- KEYS[1] consumers: consumers sorted set
-- ARGV[1] stale limit in ms
-- Returns a list of consumer ids.
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%.0f', taskq_now() - tonumber(ARGV[1])))
