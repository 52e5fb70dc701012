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
-- Each list's old end is read at once (LRANGE), the ids to forget are a run
-- from the oldest, cut with one LTRIM, and every hash loses them with one
-- HDEL: a few commands per call, not a dozen per task.
for _, list in ipairs({ KEYS[1], KEYS[11] }) do
  local left = redis.call('LLEN', list)
  local room = math.min(budget - n, left)
  if room > 0 then
    -- the oldest `room` ids, the oldest last
    local ids = redis.call('LRANGE', list, -room, -1)
    -- beyond the count limit: the oldest `over` go whatever their age
    local over = left - maxCount
    local gone = {}
    local recs, refs
    for i = #ids, 1, -1 do
      local id = ids[i]
      local forget = #gone < over
      if not forget then
        -- the records of the ids left to look at, at once, when the first is needed
        recs = recs or redis.call('HMGET', KEYS[4], taskq_unpack(ids, 1, i))
        local rec = taskq_str(recs[i])
        local at = rec and tonumber(string.match(rec, '"at":(%d+)'))
        -- a task with no record left has nothing to keep
        forget = at == nil or at < cutoff
      end
      if forget and members then
        refs = refs or redis.call('HMGET', KEYS[13], taskq_unpack(ids, 1, i))
        if taskq_str(refs[i]) then forget = false end
      end
      if not forget then break end
      gone[#gone + 1] = id
    end
    if #gone > 0 then
      redis.call('LTRIM', list, 0, -#gone - 1)
      for k = 2, 10 do redis.call('HDEL', KEYS[k], taskq_unpack(gone)) end
      redis.call('HDEL', KEYS[12], taskq_unpack(gone))
      if members then redis.call('HDEL', KEYS[13], taskq_unpack(gone)) end
      n = n + #gone
    end
  end
end
return n
