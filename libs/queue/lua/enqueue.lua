-- enqueue: add tasks; each is Queued (ready list) or, with a due time in the
-- future, Delayed (delayed set). The whole batch is read and written with one
-- command per structure (HMGET, HSET, LPUSH), not one per task.
-- A Queued task's record is published but not stored: its body (in the tasks
-- hash, beginning with the enqueue time) stands for it until its next
-- transition, which saves a status entry per waiting task. A Delayed task's
-- record (with runAt) is stored as usual.
-- KEYS[1] ready: ready list
-- KEYS[2] tasks: tasks hash (id -> encoded task)
-- KEYS[3] status: status hash
-- KEYS[4] seq: seq counter
-- KEYS[5] delayed: delayed sorted set (id -> due time)
-- KEYS[6] ids: generated-id counter
-- KEYS[7] epoch: the queue's epoch (written if the queue has none yet)
-- KEYS[8] prioritized: ready tasks with a priority (sorted set)
-- KEYS[9] priorities: priorities hash (id -> priority)
-- KEYS[10] flowMembers: flow-members hash (id -> '<flow id> <step>'; only mode 'f' writes it)
-- KEYS[11] waiters: consumers waiting for work (see fetch); those it pops are woken on their own channels
-- KEYS[12] handOffWaiters: pools that take a task in their wake message, one entry per idle sub-worker (see fetch)
-- KEYS[13] paused: present while the queue is paused (then no task is handed off)
-- KEYS[14] limits: the queue's global limits (present: no task is handed off)
-- KEYS[15] fence: fence hash (a handed-off task's entry is 'h:<ms> <consumer>' until the pool claims it)
-- ARGV[1] events channel
-- ARGV[2] wake channel
-- ARGV[3] 't': triples follow; '*': tails follow, each a task with a
--   generated id, due now (the common bulk case, in a third of the arguments);
--   'p': quadruples follow, a triple and the task's priority ('' for the
--   default; else 0-9, kept in the priorities hash, the task ready in the
--   prioritized set); 'f': quintuples, a quadruple and the task's flow
--   reference ('<flow id> <step>', kept in the flow-members hash for a new
--   task: the released steps of a flow, see flow/note.lua)
-- ARGV[4], ARGV[5], ARGV[6] ... triples (task id, encoded task tail, due):
--   id '' means "generate one": the next value of the id counter;
--   the stored body is '[' .. enqueue time .. ',' .. tail (tail: the rest of a
--   JSON array, e.g. '"type",{"payload":1}]');
--   due is '0' (now), an absolute time in ms, or '+<ms>': that long from now
--   on the Redis server's clock (delayMs; producers' clocks may be off)
-- A given id that already has a stored task is skipped: enqueue is
-- idempotent per id, the existing task stays as it is.
-- Returns the enqueue time (Redis server time, ms, as text), the queue's
--   epoch, then
--   for triples: one flag per task (1 enqueued, 0 already there), then the
--   generated ids in order;
--   for tails (every task is new): 'r' and the first id, when the ids are
--   consecutive numbers (they are, unless a number was taken), else 'l' and
--   every id in order.
local now = taskq_now()
local nowText = string.format('%.0f', now)
local tails = ARGV[3] == '*'
local flows = ARGV[3] == 'f'
local quads = ARGV[3] == 'p' or flows
local step = 3
if tails then step = 1 elseif flows then step = 5 elseif quads then step = 4 end
local count = math.floor((#ARGV - 3) / step)
-- item k's arguments start at ARGV[4 + step * (k - 1)]
local ids = {}
local generated = 0
for k = 1, count do
  local id = ''
  if not tails then id = ARGV[4 + step * (k - 1)] end
  ids[k] = id
  if id == '' then generated = generated + 1 end
end
local out = { nowText, taskq_epoch(KEYS[7]) }
if count == 0 then return taskq_reply(out) end
local firstId
if generated > 0 then
  local nextId = redis.call('INCRBY', KEYS[6], generated) - generated + 1
  firstId = nextId
  for k, id in ipairs(ids) do
    if id == '' then
      ids[k] = string.format('%d', nextId)
      nextId = nextId + 1
    end
  end
end
-- one read for every id: a given id already stored is skipped; a generated
-- one never names a stored task (all-digit ids cannot be given now, but an
-- earlier version accepted them): a number that is taken is replaced
local stored = {}
local newIds = {}
local consecutive = true
local bodies = redis.call('HMGET', KEYS[2], taskq_unpack(ids))
for k, id in ipairs(ids) do
  if tails or ARGV[4 + step * (k - 1)] == '' then
    if taskq_str(bodies[k]) then
      repeat
        id = string.format('%d', redis.call('INCR', KEYS[6]))
      until redis.call('HEXISTS', KEYS[2], id) == 0
      ids[k] = id
      consecutive = false
    end
    newIds[#newIds + 1] = id
  elseif taskq_str(bodies[k]) then
    stored[id] = true
  end
end
local n = 0
local flags = {}
for k, id in ipairs(ids) do
  -- already stored, or earlier in this same call: the first one stands
  if stored[id] then
    flags[k] = 0
  else
    stored[id] = true
    flags[k] = 1
    n = n + 1
  end
end
taskq_reserve(KEYS[4], n)
-- a new task's priority: its own, or none (an entry left by an earlier task of the id goes)
local anyPriority = quads or redis.call('EXISTS', KEYS[9]) == 1
if anyPriority then
  local fresh, levels = {}, {}
  for k, id in ipairs(ids) do
    if flags[k] == 1 then
      fresh[#fresh + 1] = id
      local level = quads and ARGV[4 + step * (k - 1) + 3] or ''
      if level ~= '' then
        levels[#levels + 1] = id
        levels[#levels + 1] = level
      end
    end
  end
  if #fresh > 0 then redis.call('HDEL', KEYS[9], taskq_unpack(fresh)) end
  if #levels > 0 then redis.call('HSET', KEYS[9], taskq_unpack(levels)) end
end
local bodies, ready = {}, {}
-- the stored body of each ready task, by position in `ready` (for a hand-off)
local readyBodies = {}
for k, id in ipairs(ids) do
  if flags[k] == 1 then
    local i = 4 + step * (k - 1)
    bodies[#bodies + 1] = id
    local due = 0
    if tails then
      bodies[#bodies + 1] = '[' .. nowText .. ',' .. ARGV[i]
    else
      bodies[#bodies + 1] = '[' .. nowText .. ',' .. ARGV[i + 1]
      local spec = ARGV[i + 2]
      if spec == '0' then
        due = 0
      elseif string.sub(spec, 1, 1) == '+' then
        due = now + tonumber(string.sub(spec, 2))
      else
        due = tonumber(spec)
      end
    end
    if due > now then
      redis.call('ZADD', KEYS[5], due, id)
      taskq_record(KEYS[3], KEYS[4], ARGV[1], id, 'Delayed', 0, now, '', '', due)
    else
      ready[#ready + 1] = id
      readyBodies[#ready] = bodies[#bodies]
      -- task ids need no escaping: the given ones are checked before they are sent, the generated ones are numbers
      taskq_emit_plain(nil, KEYS[4], ARGV[1], id, 'Queued', '0', now, '')
    end
  end
end
if #bodies > 0 then redis.call('HSET', KEYS[2], taskq_unpack(bodies)) end
if flows then
  local refs = {}
  for k, id in ipairs(ids) do
    local ref = ARGV[4 + step * (k - 1) + 4]
    if flags[k] == 1 and ref ~= '' then
      refs[#refs + 1] = id
      refs[#refs + 1] = ref
    end
  end
  if #refs > 0 then redis.call('HSET', KEYS[10], taskq_unpack(refs)) end
end
-- Hand-off (docs/design/hand-off.md): a pool that opted in lists itself in
-- KEYS[12] once per idle sub-worker. Each new ready task (oldest first) of a
-- queue that is not paused, has no global limits and no task ready already
-- (ready list, prioritized set), of a call whose tasks have the default
-- priority (none, or 5) and that is no flow's, goes
-- to one such entry (the newest: its code and connection are warm): into
-- that consumer's processing list, fenced 'h:<ms> <consumer>', and its id and
-- body published on the consumer's own channel as 'h <id> <body>'. The
-- pool starts the handler on that message and claims the task with its next
-- call (fetch.lua), which records it InProgress. The record stays Queued
-- until then. A body longer than HANDOFF_MAX stays ready (pub/sub carries it whole).
local HANDOFF_MAX = 8192
local handed = 0
local readyNow = ready
-- Not when it would jump a queue: tasks already ready (the ready list, or the
-- prioritized set), or a task of this call with a priority of its own.
local mayHandOff = #ready > 0 and not flows
if mayHandOff and quads then
  for k = 1, count do
    local level = ARGV[4 + step * (k - 1) + 3]
    if flags[k] == 1 and level ~= '' and level ~= '5' then mayHandOff = false end
  end
end
if mayHandOff and redis.call('LLEN', KEYS[12]) > 0 and redis.call('EXISTS', KEYS[13], KEYS[14], KEYS[8]) == 0 and redis.call('LLEN', KEYS[1]) == 0 then
  local small = {}
  for k = 1, #ready do
    if #readyBodies[k] <= HANDOFF_MAX then small[#small + 1] = k end
  end
  local takers = #small > 0 and redis.call('RPOP', KEYS[12], #small)
  if takers then
    local fences, gone = {}, {}
    -- 'h:<ms> <consumer>' (taskq_handed): handed off then (reconcile keeps it until its pool had it, see reconcile.lua)
    local handedAt = 'h:' .. nowText .. ' '
    -- indexed, not ipairs: the in-memory Redis returns an array-like userdata
    for w = 1, #takers do
      local k = small[w]
      local id, consumer = ready[k], takers[w]
      redis.call('LPUSH', taskq_processing_key(KEYS[1], consumer), id)
      fences[#fences + 1] = id
      fences[#fences + 1] = handedAt .. consumer
      redis.call('PUBLISH', ARGV[2] .. ':' .. consumer, 'h ' .. id .. ' ' .. readyBodies[k])
      gone[k] = true
    end
    taskq_fence_set(KEYS[15], fences)
    handed = #takers
    readyNow = {}
    for k = 1, #ready do
      if not gone[k] then readyNow[#readyNow + 1] = ready[k] end
    end
  end
end
if #ready > 0 then
  if #readyNow > 0 then
    if anyPriority then taskq_ready(KEYS[1], KEYS[8], KEYS[9], readyNow, false) else redis.call('LPUSH', KEYS[1], taskq_unpack(readyNow)) end
  end
  -- a new task's body stands for its record: no stale record of an earlier task of that id may shadow it
  redis.call('HDEL', KEYS[3], taskq_unpack(ready))
end
taskq_flush()
-- Idle workers fetch (ready tasks: the message is how many) or re-arm their
-- timer (a new earliest due time: 0). With consumers waiting for work, as
-- many as tasks became ready are popped (the one that waited least first:
-- its code and connection are warm) and each gets the count on its own
-- channel, '<wake channel>:<consumer>': only they fetch, and only their
-- processes hear it, instead of every idle pool. Hand-off pools are woken so
-- for the tasks not handed to them (a paused queue, limits, priorities, a large body).
if #readyNow > 0 then
  local woken = redis.call('RPOP', KEYS[11], #readyNow)
  if not woken and redis.call('LLEN', KEYS[12]) > 0 then woken = redis.call('RPOP', KEYS[12], #readyNow) end
  if woken then
    local told = {}
    for w = 1, #woken do
      local consumer = woken[w]
      if not told[consumer] then
        told[consumer] = true
        redis.call('PUBLISH', ARGV[2] .. ':' .. consumer, #readyNow)
      end
    end
  else
    redis.call('PUBLISH', ARGV[2], #readyNow)
  end
elseif n > handed then
  redis.call('PUBLISH', ARGV[2], 0)
end
if tails then
  if consecutive then
    out[3] = 'r'
    out[4] = string.format('%d', firstId)
  else
    out[3] = 'l'
    for _, id in ipairs(newIds) do out[#out + 1] = id end
  end
  return taskq_reply(out)
end
for k = 1, count do out[k + 2] = flags[k] end
for _, id in ipairs(newIds) do out[#out + 1] = id end
return taskq_reply(out)
