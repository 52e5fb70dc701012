-- resume: a paused queue hands out tasks again. Published on the events
-- channel as a queue event (with a seq of its own), and a wake message without
-- a count, so idle workers ask for a full share at once.
-- KEYS[1] paused: the pause key
-- KEYS[2] seq: seq counter
-- ARGV[1] events channel
-- ARGV[2] wake channel
-- Returns the resume event (JSON), or false when the queue was not paused.
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('DEL', KEYS[1])
local seq = redis.call('INCR', KEYS[2])
local event = '{"event":"resumed","at":' .. string.format('%.0f', taskq_now()) .. ',"seq":' .. string.format('%d', seq) .. '}'
redis.call('PUBLISH', ARGV[1], event)
redis.call('PUBLISH', ARGV[2], 'resumed')
return event
