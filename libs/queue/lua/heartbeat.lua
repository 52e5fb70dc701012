-- heartbeat: register a consumer, or prove it is still alive; reports the
-- cancel requests for tasks it holds (in case the control message was lost).
-- KEYS[1] consumers: consumers sorted set (id -> last heartbeat, Redis server time ms)
-- KEYS[2] processing: processing list of the consumer
-- KEYS[3] cancels: cancels hash
-- KEYS[4] epoch: the queue's epoch (written if the queue has none yet)
-- ARGV[1] consumer id
-- ARGV[2] '1' to register (add if absent), '0' to beat only if registered
-- Returns { 1 if registered now / 0 if a beat found it removed (the janitor
-- presumed it dead and recovered its tasks, or Redis lost the queue's data:
-- the epoch tells), the queue's epoch, ids with a cancel request... }
local epoch = taskq_epoch(KEYS[4])
if ARGV[2] ~= '1' and not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return taskq_reply({ 0, epoch }) end
redis.call('ZADD', KEYS[1], taskq_now(), ARGV[1])
local out = { 1, epoch }
for _, id in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
  if redis.call('HEXISTS', KEYS[3], id) == 1 then out[#out + 1] = id end
end
return taskq_reply(out)
