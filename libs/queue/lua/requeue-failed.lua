-- requeue-failed: give rejected (Failed) tasks another chance, e.g. once a
-- handler for their type is deployed: out of the rejected list, attempts
-- start over, recorded Queued. Their failure history is kept. The mirror of
-- requeue-dead for the rejected list; ids only (no '*').
-- KEYS[1] rejected: rejected list
-- KEYS[2] ready: ready list
-- KEYS[3] attempts: attempts hash
-- KEYS[4] status: status hash
-- KEYS[5] seq: seq counter
-- KEYS[6] tasks: tasks hash
-- KEYS[7] recoveries: recoveries hash
-- KEYS[8] prioritized: prioritized sorted set
-- KEYS[9] priorities: priorities hash
-- ARGV[1] events channel
-- ARGV[2] wake channel
-- ARGV[3] ... task ids
-- Returns the ids requeued.
local now = taskq_now()
local out = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  if redis.call('LREM', KEYS[1], 1, id) > 0 and redis.call('HEXISTS', KEYS[6], id) == 1 then
    redis.call('HDEL', KEYS[3], id) -- attempts start over: no count is 0
    redis.call('HDEL', KEYS[7], id)
    taskq_ready(KEYS[2], KEYS[8], KEYS[9], { id }, false)
    taskq_record(KEYS[4], KEYS[5], ARGV[1], id, 'Queued', 0, now, '', 'requeued from the rejected list')
    out[#out + 1] = id
  end
end
taskq_flush()
if #out > 0 then redis.call('PUBLISH', ARGV[2], #out) end
return taskq_reply(out)
