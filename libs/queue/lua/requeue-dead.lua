-- requeue-dead: give dead tasks another life: out of the dead-letter list,
-- attempts start over, recorded Queued. Their failure history is kept.
-- KEYS[1] dead: dead list
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
-- ARGV[3] '*' to requeue every dead task (up to ARGV[4]), or '' for the ids that follow
-- ARGV[4] most tasks to requeue with '*'
-- ARGV[5] ... task ids
-- Returns the ids requeued.
local now = taskq_now()
local ids = {}
if ARGV[3] == '*' then
  for _ = 1, tonumber(ARGV[4]) do
    local id = redis.call('RPOP', KEYS[1])
    if not id then break end
    ids[#ids + 1] = id
  end
else
  for i = 5, #ARGV do
    if redis.call('LREM', KEYS[1], 1, ARGV[i]) > 0 then ids[#ids + 1] = ARGV[i] end
  end
end
return taskq_reply(taskq_requeue(KEYS, ids, ARGV[1], ARGV[2], 'requeued from the dead-letter list', now))
