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
-- KEYS[10] results: results hash (a stale result, if any, is cleared)
-- ARGV[1] events channel
-- ARGV[2] wake channel
-- ARGV[3] ... task ids
-- Returns the ids requeued.
local now = taskq_now()
local ids = {}
for i = 3, #ARGV do
  if redis.call('LREM', KEYS[1], 1, ARGV[i]) > 0 then ids[#ids + 1] = ARGV[i] end
end
return taskq_reply(taskq_requeue(KEYS, ids, ARGV[1], ARGV[2], 'requeued from the rejected list', now))
