-- trim: retention. Forgets Done tasks (the finished list) and Cancelled tasks
-- (the cancelled list) finished longer ago than the age limit, and in each
-- list the oldest beyond the count limit (the limit applies to each list on
-- its own), at most ARGV[3] in all per call (the janitor calls again while
-- there is more). Each list is in finish order (newest first), so it is read
-- from its old end; a task's finish time is the time of its final status
-- record. The finished list of data written before the cancelled list came
-- may hold Cancelled tasks too: they are trimmed with it.
-- KEYS[1] finished: finished list (Done ids, newest first)
-- KEYS[2] tasks: tasks hash
-- KEYS[3] attempts: attempts hash
-- KEYS[4] status: status hash
-- KEYS[5] history: history hash
-- KEYS[6] fence: fence hash
-- KEYS[7] cancels: cancels hash
-- KEYS[8] recoveries: recoveries hash
-- KEYS[9] priorities: priorities hash
-- KEYS[10] progress: progress hash (empty for an ended task; cleared all the same)
-- KEYS[11] cancelled: cancelled list (Cancelled ids, newest first)
-- KEYS[12] results: results hash (a Done task's result goes with it)
-- KEYS[13] flowMembers: flow-members hash (a flow step's reference goes with
--   it; a step whose notice a mover has not carried into its flow yet, whose
--   reference is still here, is not forgotten: the trim stops at it, so that
--   a notice carried again can never re-enqueue a step whose end its flow
--   has not heard of yet)
-- ARGV[1] max age, ms
-- ARGV[2] max count, per list
-- ARGV[3] most tasks to forget in this call
-- Returns the number of tasks forgotten.
local now = taskq_now()
local budget = tonumber(ARGV[3])
local maxCount = tonumber(ARGV[2])
local cutoff = now - tonumber(ARGV[1])
local n = 0
local members = redis.call('EXISTS', KEYS[13]) == 1
for _, list in ipairs({ KEYS[1], KEYS[11] }) do
  local left = redis.call('LLEN', list)
  while n < budget and left > 0 do
    local id = redis.call('LINDEX', list, -1)
    local forget = left > maxCount
    if not forget then
      local rec = taskq_str(redis.call('HGET', KEYS[4], id))
      local at = rec and tonumber(string.match(rec, '"at":(%d+)'))
      -- a task with no record left has nothing to keep
      forget = at == nil or at < cutoff
    end
    if forget and members and redis.call('HEXISTS', KEYS[13], id) == 1 then forget = false end
    if not forget then break end
    redis.call('RPOP', list)
    for k = 2, 10 do redis.call('HDEL', KEYS[k], id) end
    redis.call('HDEL', KEYS[12], id)
    redis.call('HDEL', KEYS[13], id)
    left = left - 1
    n = n + 1
  end
end
return n
