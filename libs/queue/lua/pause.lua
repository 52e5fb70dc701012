-- pause: the queue hands out no task until resumed (fetch checks the key);
-- enqueues go on, running tasks finish, acks and failures land. Recorded in
-- the paused key and published on the events channel as a queue event, with
-- a seq of its own (monitors see no gap).
-- KEYS[1] paused: the pause key
-- KEYS[2] seq: seq counter
-- ARGV[1] events channel
-- ARGV[2] reason ('' for none)
-- Returns the pause event (JSON); when the queue was paused already, that
-- earlier event, unchanged.
local current = taskq_str(redis.call('GET', KEYS[1]))
if current then return current end
local seq = redis.call('INCR', KEYS[2])
local event = '{"event":"paused","at":' .. string.format('%.0f', taskq_now()) .. ',"seq":' .. string.format('%d', seq)
if ARGV[2] ~= '' then event = event .. ',"reason":' .. taskq_jstr(ARGV[2]) end
event = event .. '}'
redis.call('SET', KEYS[1], event)
redis.call('PUBLISH', ARGV[1], event)
return event
