-- fetch: one round trip for a worker pool's traffic. First acknowledges the
-- tasks its workers finished (each recorded Done, refused on its own unless
-- this consumer holds it under the same fencing token), then promotes due
-- Delayed/Retrying tasks to the ready list, then moves up to one task per
-- named worker into the consumer's processing list, each recorded
-- InProgress with a fresh fencing token, '<seq>:<attempt>' (the seq of its
-- InProgress record, and the attempt it starts). With no acks it is a plain fetch;
-- with no workers, a plain batch ack.
-- Each step works on the whole batch with one command where Redis has one
-- (HMGET, HSET, RPOP count, LPUSH, ZADD, HDEL with many arguments): the
-- per-task cost is what Redis does per element, not a command per task.
-- KEYS[1] ready: ready list
-- KEYS[2] processing: processing list of this consumer
-- KEYS[3] tasks: tasks hash
-- KEYS[4] attempts: attempts hash
-- KEYS[5] status: status hash
-- KEYS[6] seq: seq counter
-- KEYS[7] consumers: consumers sorted set (id -> last heartbeat)
-- KEYS[8] delayed: delayed sorted set
-- KEYS[9] fence: fence hash (id -> token)
-- KEYS[10] cancels: cancels hash
-- KEYS[11] finished: finished list (retention)
-- KEYS[12] recoveries: recoveries hash
-- KEYS[13] paused: present while the queue is paused (then no task is handed out)
-- KEYS[14] prioritized: ready tasks with a priority (sorted set; the lowest score runs first)
-- KEYS[15] priorities: priorities hash (id -> priority)
-- KEYS[16] limits: the queue's global limits (hash; absent: no limit, and no limit work)
-- KEYS[17] limitHeld: id -> type of the running tasks that hold a slot of their type's limit
-- KEYS[18] limitActive: type -> slots held
-- KEYS[19] limitStarts: starts under a rate limit (sorted set, by scope and time)
-- KEYS[20] parked: ready tasks set aside while their type is at its limit (sorted set)
-- KEYS[21] progress: progress hash (an acked task's goes; absent while no running task reported any)
-- KEYS[22] retrying: the Retrying tasks of the delayed set (promoted ones leave it; absent while none retries)
-- KEYS[23] throughput: outcomes per minute (the acks add to the minute's done count: one HINCRBY per call)
-- KEYS[24] results: results hash (id -> JSON text of a handler's return value; only acks that carry one write it)
-- KEYS[25] flowMembers: flow-members hash (an acked flow step gets a notice; absent while the queue has no flow step)
-- KEYS[26] flowOutbox: flow outbox (the notices of acked flow steps, see QueueKeys.flowOutbox)
-- KEYS[27] waiters: consumers waiting for work: this one is pushed to its tail when its fetch
--   emptied the ready list and left it idle sub-workers, else taken out (see enqueue)
-- KEYS[28] handOffWaiters: pools that take a task in their wake message (see enqueue): a
--   hand-off pool is listed here instead, once per idle sub-worker, while nothing is ready
-- KEYS[29] cancelled: cancelled list (a claimed task whose cancel came first ends there)
-- ARGV[1] events channel
-- ARGV[2] consumer id
-- ARGV[3] '1' if every worker name (acks' and fetches') and acked id needs no
--   JSON escaping (the caller checked), else '0'; followed by '+' when the pool
--   has idle sub-workers besides the named ones (then a queue without ready
--   tasks lists this consumer as waiting for work, KEYS[27])
-- ARGV[4] wake channel (announces parked tasks an ack let start)
-- ARGV[5] number of acks A
-- ARGV[6] number of results R (0 when no acked handler returned a value)
-- ARGV[7 .. 6+3A] ack triples (task id, worker name, fencing token)
-- ARGV[7+3A .. 6+3A+2R] result pairs (position of the ack in this call, 1..A;
--   the JSON text of its handler's return value), stored with the Done
--   record of an ack that stands; nothing of a refused ack is stored
-- ARGV[7+3A+2R ..] one worker name per task wanted (recorded as the task's worker)
-- With an 'h' after ARGV[3]'s first character (a hand-off pool, see enqueue.lua),
--   a claim block comes before the worker names: the pool's idle sub-workers
--   besides the named ones S, the number of claims C, then C triples (task
--   id, worker name, ms since its handler started). A claim stands when the
--   task is still fenced 'h:<ms> <this consumer>': it is recorded InProgress (at
--   the start the pool measured, not before the task's enqueue) with a fresh
--   fencing token; if its cancel was requested first it is recorded
--   Cancelled instead; else (released, recovered or reconciled meanwhile)
--   it is refused. The reply has one entry per claim after the ack flags:
--   the token, 'c' (cancelled) or '' (refused). With an 'r' after the 'h'
--   (claims only, sent by the pool's heartbeat thread) the pool's hand-off
--   listing is left as it is.
--
-- Global limits (only when the limits key exists): the queue's concurrency
-- (the fence hash counts the tasks in flight) and rate cut the number handed
-- out, leaving the others ready; a task whose type is at its concurrency or
-- rate limit is parked (set aside, still Queued) and the fetch pops the next
-- one, parking at most PARK_BUDGET per call. Parked tasks of a type with room
-- go first (they are older); a popped task of a type that has parked tasks
-- is parked and the type's first parked task (by priority, then FIFO) runs
-- in its place. Parked tasks count as ready in the reply only as far as their
-- type has room now, so a pool whose queue holds only parked tasks of full
-- types waits: for a wake (published when an
-- ack frees a slot that a parked task can take) or, for a rate limit, for the
-- time its window reopens (the reply's first element).
-- Returns -1 if the consumer is not registered (it was presumed dead and its
-- tasks recovered: it must register again; nothing was done).
-- Otherwise a flat array: ms until the earliest delayed task is due (-1:
-- none, or not looked up because tasks are still ready), the number of tasks
-- still ready after this fetch (-1 when no task was wanted, -2 when the queue
-- is paused: the acks land, nothing is promoted or handed out; 0 when the
-- queue's limits hold back the tasks still ready), A ack flags (1
-- acknowledged, 2 acknowledged and a flow step: its notice is in the flow
-- outbox, 0 refused), then per task: id, encoded task ('' if none
-- stored), token (its attempt is the part after the colon).
local call = redis.call
-- per-task loops read these often: locals, not global lookups
local KEYS, ARGV, type = KEYS, ARGV, type
local find, sub = string.find, string.sub
local now = taskq_now()
if not call('ZSCORE', KEYS[7], ARGV[2]) then return -1 end
-- fetching is proof of life: refresh the heartbeat
call('ZADD', KEYS[7], now, ARGV[2])

local acks = tonumber(ARGV[5])
local nresults = tonumber(ARGV[6])
local statusKey, seqKey, channel = KEYS[5], KEYS[6], ARGV[1]
local firstWorker = 7 + 3 * acks + 2 * nresults
-- hand-off: the claim block (see ARGV[3])
local handOff = find(ARGV[3], 'h', 2, true) ~= nil
-- 'r' after 'h': claims sent for the pool by its heartbeat thread (see Consumer.claimCall): its hand-off listing stays as it is
local relayed = handOff and find(ARGV[3], 'r', 2, true) ~= nil
local firstClaim, spareCount, claims = firstWorker, 0, 0
if handOff then
  spareCount = tonumber(ARGV[firstClaim])
  claims = tonumber(ARGV[firstClaim + 1])
  firstWorker = firstClaim + 2 + 3 * claims
end
-- records of plain names are built without scanning them for characters to escape
local plain = string.sub(ARGV[3], 1, 1) == '1'
local spare = string.sub(ARGV[3], 2, 2) == '+'
local out = { -1, -1 }
local nout = 2

-- acks, first pass: which stand (fencing token, and still in the processing list)
local ackedIds, nacked = {}, 0
local ackWorkers, ackTokens = {}, {}
-- the acks' ids by position in this call (the result pairs name positions)
local ackIds = {}
if acks > 0 then
  for n = 1, acks do ackIds[n] = ARGV[4 + 3 * n] end
  local tokens = call('HMGET', KEYS[9], taskq_unpack(ackIds))
  -- the acks whose token stands, by id (an id acked twice in one call counts once)
  local held, nheld = {}, 0
  for n = 1, acks do
    local id = ackIds[n]
    out[n + 2] = 0
    -- a missing token is false (Redis) or a null userdata (the in-memory Redis): equal to no string
    -- (a handed-off task's fence 'h:<ms> <consumer>' is no token: it is claimed first)
    if held[id] == nil and tokens[n] == ARGV[6 + 3 * n] and not taskq_handed(tokens[n]) then
      held[id] = n
      nheld = nheld + 1
    end
  end
  if nheld > 0 then
    -- Out of the processing list. Its tail holds the oldest tasks, which
    -- mostly finish first: a tail of acked ids goes with one LTRIM, any
    -- other acked id with an LREM of its own.
    local tail = call('LRANGE', KEYS[2], -nheld, -1)
    local cut = 0
    for i = #tail, 1, -1 do
      local n = held[tail[i]]
      if n == nil or out[n + 2] == 1 then break end
      out[n + 2] = 1
      cut = cut + 1
    end
    if cut > 0 then call('LTRIM', KEYS[2], 0, -cut - 1) end
    for n = 1, acks do
      local id = ackIds[n]
      if out[n + 2] == 0 and held[id] == n and call('LREM', KEYS[2], -1, id) == 1 then out[n + 2] = 1 end
      if out[n + 2] == 1 then
        nacked = nacked + 1
        ackedIds[nacked] = id
        ackWorkers[nacked] = ARGV[5 + 3 * n]
        ackTokens[nacked] = ARGV[6 + 3 * n]
      end
    end
  end
  nout = acks + 2
end

-- A hand-off pool's entries in the hand-off list: its own go, then `slots` of them (see enqueue.lua)
local function listHandOff(slots)
  call('LREM', KEYS[28], 0, ARGV[2])
  if slots <= 0 then return end
  local entries = {}
  for i = 1, slots do entries[i] = ARGV[2] end
  call('RPUSH', KEYS[28], taskq_unpack(entries))
end

-- claims of handed-off tasks (see ARGV[3])
if claims > 0 then
  local cids = {}
  for c = 1, claims do cids[c] = ARGV[firstClaim + 2 + 3 * (c - 1)] end
  local fenced = call('HMGET', KEYS[9], taskq_unpack(cids))
  local bodies = call('HMGET', KEYS[3], taskq_unpack(cids))
  -- the claims that stand: still 'h:<ms> <this consumer>' (see enqueue.lua); each records one status
  local standing, nstanding = {}, 0
  for c = 1, claims do
    local _, holder = taskq_handed(fenced[c])
    if holder == ARGV[2] then
      standing[c] = true
      nstanding = nstanding + 1
    end
  end
  -- The attempts and cancels hashes are mostly absent (a handed-off task is a
  -- first attempt, and cancels are rare): one EXISTS spares the per-claim
  -- commands when neither is there; the seq numbers come with one INCRBY.
  local counts, cancels = nil, false
  if nstanding > 0 and call('EXISTS', KEYS[4], KEYS[10]) > 0 then
    if call('EXISTS', KEYS[4]) == 1 then counts = call('HMGET', KEYS[4], taskq_unpack(cids)) end
    cancels = call('EXISTS', KEYS[10]) == 1
  end
  taskq_reserve(seqKey, nstanding)
  local tokens, counted = {}, {}
  for c = 1, claims do
    local id = cids[c]
    local result = ''
    if standing[c] then
      local attempt = counts and tonumber(taskq_str(counts[c]) or '0') or 0
      if cancels and call('HDEL', KEYS[10], id) == 1 then
        -- cancelled before its claim (see cancel.lua): it ends here, its handler is aborted
        call('LREM', KEYS[2], -1, id)
        call('HDEL', KEYS[9], id)
        call('HDEL', KEYS[4], id)
        call('LPUSH', KEYS[29], id)
        taskq_record(statusKey, seqKey, channel, id, 'Cancelled', attempt, now, '', 'cancelled before its worker claimed it (its handler had started and was aborted)')
        result = 'c'
      else
        attempt = attempt + 1
        local at = now - math.max(0, tonumber(ARGV[firstClaim + 4 + 3 * (c - 1)]) or 0)
        local enqueued = type(bodies[c]) == 'string' and tonumber(string.match(bodies[c], '^%[(%d+)'))
        if enqueued and at < enqueued then at = enqueued end
        local _, _, seqText = taskq_emit(statusKey, seqKey, channel, id, 'InProgress', attempt, at, ARGV[firstClaim + 3 + 3 * (c - 1)], '')
        result = seqText .. ':' .. taskq_int(attempt)
        tokens[#tokens + 1] = id
        tokens[#tokens + 1] = result
        -- its count moves into the token
        if counts then counted[#counted + 1] = id end
      end
    end
    out[2 + acks + c] = result
  end
  if #tokens > 0 then call('HSET', KEYS[9], taskq_unpack(tokens)) end
  if #counted > 0 then call('HDEL', KEYS[4], taskq_unpack(counted)) end
end
nout = 2 + acks + claims

local wanted = #ARGV - firstWorker + 1
-- a paused queue hands out nothing and promotes nothing (the acks above land)
local paused = wanted > 0 and call('EXISTS', KEYS[13]) == 1
if paused then wanted = 0 end
-- due tasks go to the consuming end: they run next, not behind a backlog
local due = {}
-- (a relayed claims call leaves that to the pool's own calls: it would leave the pool listed with tasks ready)
if not paused and not relayed then due = call('ZRANGEBYSCORE', KEYS[8], '-inf', string.format('%.0f', now), 'LIMIT', 0, 1000) end
if #due > 0 then
  call('ZREM', KEYS[8], taskq_unpack(due))
  -- the Retrying index: one EXISTS when no task retries
  if call('EXISTS', KEYS[22]) == 1 then call('ZREM', KEYS[22], taskq_unpack(due)) end
  taskq_ready(KEYS[1], KEYS[14], KEYS[15], due, true)
end
local asked = wanted
-- Global limits: one EXISTS when the queue has none (then `lim` stays false)
local lim = false
if (nacked > 0 or wanted > 0) and call('EXISTS', KEYS[16]) == 1 then lim = taskq_limits_load(KEYS[16]) end
-- type -> slots the acks freed; whether the queue was at its concurrency
-- limit (a pool may wait for a slot); whether its limits held ready tasks back
local freed, queueFull, queueHeld = {}, false, false
local PARK_BUDGET = 1000
local function roomOf(e)
  if e.room == nil then
    local room = 1e9
    if e.cap then room = e.cap - tonumber(taskq_str(call('HGET', KEYS[18], e.name)) or '0') end
    if e.rateMax then room = math.min(room, e.rateMax - taskq_window(KEYS[19], e.scope, e.rateMs, now)) end
    e.room = math.max(0, room)
  end
  return e.room
end
local function parkedOf(e)
  if e.parked == nil then e.parked = taskq_parked_count(KEYS[20], e.scope) end
  return e.parked
end
local function park(id, level, e)
  local order = call('HINCRBY', KEYS[16], ' parked order', 1)
  call('ZADD', KEYS[20], taskq_fmt(e.scope * TASKQ_SCOPE_SPAN + (9 - level) * TASKQ_PARK_LEVEL_SPAN + order), id)
end
if lim then
  if nacked > 0 then freed = taskq_limits_unhold(KEYS[17], KEYS[18], ackedIds) end
  if lim.cap then
    -- the fence hash still holds the acked tasks (removed below)
    local inflight = taskq_inflight(KEYS[9]) - nacked
    queueFull = inflight + nacked >= lim.cap
    if wanted > lim.cap - inflight then
      wanted = math.max(0, lim.cap - inflight)
      queueHeld = true
    end
  end
  if lim.rateMax and wanted > 0 then
    local room = lim.rateMax - taskq_window(KEYS[19], 0, lim.rateMs, now)
    if wanted > room then
      wanted = math.max(0, room)
      queueHeld = true
    end
  end
end
local ids, nids = {}, 0
-- position -> the limited type a task handed out runs under
local idLimit = {}
-- tasks with a priority (one EXISTS when there are none): the levels above
-- the default first, then the ready list (the default level), then the levels below
local prioritized = wanted > 0 and call('EXISTS', KEYS[14]) == 1
local DEFAULT_LEVEL_SCORE = '40000000000000' -- (9 - 5) * TASKQ_LEVEL_SPAN: priority 5 is the ready list
if lim and lim.typed and wanted > 0 then
  -- parked tasks of the types with room first, the oldest (by priority, then FIFO) of all
  if call('EXISTS', KEYS[20]) == 1 then
    local cands = {}
    for _, e in pairs(lim.types) do
      if roomOf(e) > 0 then
        local base = e.scope * TASKQ_SCOPE_SPAN
        local got = call('ZRANGEBYSCORE', KEYS[20], taskq_fmt(base), '(' .. taskq_fmt(base + TASKQ_SCOPE_SPAN), 'WITHSCORES', 'LIMIT', 0, math.min(e.room, wanted))
        for i = 1, #got, 2 do cands[#cands + 1] = { id = got[i], key = tonumber(got[i + 1]) - base, e = e } end
      end
    end
    table.sort(cands, function(a, b) return a.key < b.key end)
    local taken = {}
    for i = 1, math.min(#cands, wanted) do
      local c = cands[i]
      nids = nids + 1
      ids[nids] = c.id
      idLimit[nids] = c.e
      c.e.room = c.e.room - 1
      c.e.parked = nil
      taken[i] = c.id
    end
    if #taken > 0 then call('ZREM', KEYS[20], taskq_unpack(taken)) end
  end
  -- then ready tasks in priority order, each of a type at its limit parked
  local parkedNow = 0
  while wanted > nids and parkedNow < PARK_BUDGET do
    local want = wanted - nids
    local batch, levels = {}, {}
    local function popLevels(min, max)
      if #batch >= want then return end
      local got = call('ZRANGEBYSCORE', KEYS[14], min, max, 'WITHSCORES', 'LIMIT', 0, want - #batch)
      if #got == 0 then return end
      local taken = {}
      for i = 1, #got, 2 do
        batch[#batch + 1] = got[i]
        levels[#batch] = 9 - math.floor(tonumber(got[i + 1]) / TASKQ_LEVEL_SPAN)
        taken[#taken + 1] = got[i]
      end
      call('ZREM', KEYS[14], taskq_unpack(taken))
    end
    if prioritized then popLevels('-inf', '(' .. DEFAULT_LEVEL_SCORE) end
    if #batch < want then
      local popped = call('RPOP', KEYS[1], want - #batch)
      if popped then
        for n = 1, #popped do
          batch[#batch + 1] = popped[n]
          levels[#batch] = 5
        end
      end
    end
    if prioritized then popLevels(DEFAULT_LEVEL_SCORE, '+inf') end
    if #batch == 0 then break end
    local bodies = call('HMGET', KEYS[3], taskq_unpack(batch))
    for n = 1, #batch do
      local id = batch[n]
      local t = taskq_body_type(bodies[n])
      local e = t and lim.types[t]
      if e and roomOf(e) == 0 then
        park(id, levels[n], e)
        e.parked = parkedOf(e) + 1
        parkedNow = parkedNow + 1
      else
        if e and parkedOf(e) > 0 then
          -- the type's parked tasks were there first: this one joins them, their first runs
          park(id, levels[n], e)
          local base = e.scope * TASKQ_SCOPE_SPAN
          id = call('ZRANGEBYSCORE', KEYS[20], taskq_fmt(base), '(' .. taskq_fmt(base + TASKQ_SCOPE_SPAN), 'LIMIT', 0, 1)[1]
          call('ZREM', KEYS[20], id)
        end
        if e then e.room = e.room - 1 end
        nids = nids + 1
        ids[nids] = id
        idLimit[nids] = e or nil
      end
    end
    if #batch < want then break end
  end
else
  local function takeLevels(min, max)
    local taken = call('ZRANGEBYSCORE', KEYS[14], min, max, 'LIMIT', 0, wanted - nids)
    if #taken == 0 then return end
    call('ZREM', KEYS[14], taskq_unpack(taken))
    for n = 1, #taken do ids[nids + n] = taken[n] end
    nids = nids + #taken
  end
  if prioritized then takeLevels('-inf', '(' .. DEFAULT_LEVEL_SCORE) end
  if wanted > nids then
    -- false when the list is empty; copied, as the in-memory Redis returns an array-like userdata
    local popped = call('RPOP', KEYS[1], wanted - nids)
    if popped then
      for n = 1, #popped do ids[nids + n] = popped[n] end
      nids = nids + #popped
    end
  end
  if prioritized and wanted > nids then takeLevels(DEFAULT_LEVEL_SCORE, '+inf') end
end
-- ids need no escaping since enqueue refuses such ids; one scan of the batch
-- still catches an id an earlier version accepted (those records are escaped)
local plainFetched = plain and not (nids > 0 and find(table.concat(ids), '[%c"\\]'))
-- one seq number per record: Done per ack, Queued per promotion, InProgress per task handed out
taskq_reserve(KEYS[6], nacked + #due + nids)
-- The attempts, cancels, recoveries, progress and flow-members hashes are
-- mostly absent (they hold only retried, cancelled or recovered tasks,
-- running tasks that reported progress, and flow steps): one EXISTS for the five spares the per-key checks
-- below when none is there. Nothing here adds to them, so what is absent now
-- stays absent.
local spares = 0
if nacked > 0 or nids > 0 then spares = call('EXISTS', KEYS[4], KEYS[10], KEYS[12], KEYS[21], KEYS[25]) end

if nacked > 0 then
  call('HDEL', KEYS[9], taskq_unpack(ackedIds))
  -- cancel requests and recovery counts are rare: clear them only if there are any
  if spares > 0 and call('EXISTS', KEYS[10]) == 1 then call('HDEL', KEYS[10], taskq_unpack(ackedIds)) end
  if spares > 0 and call('EXISTS', KEYS[12]) == 1 then call('HDEL', KEYS[12], taskq_unpack(ackedIds)) end
  -- a Done task's progress goes with its run
  if spares > 0 and call('EXISTS', KEYS[21]) == 1 then call('HDEL', KEYS[21], taskq_unpack(ackedIds)) end
  for k = 1, nacked do
    local id = ackedIds[k]
    -- the count is in the token (see the queue prelude); an earlier version kept it in the hash
    -- taskq_token_attempt_text, inline
    local token = ackTokens[k]
    local colon = find(token, ':', 1, true)
    local attemptText = colon and sub(token, colon + 1)
    if attemptText and plain then
      taskq_emit_plain(statusKey, seqKey, channel, id, 'Done', attemptText, now, ackWorkers[k])
    else
      local attempt = tonumber(attemptText or taskq_str(call('HGET', KEYS[4], id)) or '0')
      taskq_emit(statusKey, seqKey, channel, id, 'Done', attempt, now, ackWorkers[k], '')
    end
  end
  -- a Done task's count lives on in its record (tasks fetched by an earlier version left theirs in the hash)
  if spares > 0 and call('EXISTS', KEYS[4]) == 1 then call('HDEL', KEYS[4], taskq_unpack(ackedIds)) end
  call('LPUSH', KEYS[11], taskq_unpack(ackedIds))
  taskq_throughput(KEYS[23], now, 'done', nacked)
  -- the results of the acks that stand, with their Done records (none: no command)
  if nresults > 0 then
    local fields, nfields = {}, 0
    local base = 6 + 3 * acks
    for r = 1, nresults do
      local n = tonumber(ARGV[base + 2 * r - 1])
      if n and out[n + 2] == 1 then
        fields[nfields + 1] = ackIds[n]
        fields[nfields + 2] = ARGV[base + 2 * r]
        nfields = nfields + 2
      end
    end
    if nfields > 0 then call('HSET', KEYS[24], taskq_unpack(fields)) end
  end
  -- flow steps: a notice each, and their ack flag says so (2)
  if spares > 0 and call('EXISTS', KEYS[25]) == 1 then
    local notices, member = taskq_flow_notice(KEYS[25], KEYS[26], ackedIds, 'Done', true)
    if notices > 0 then
      for n = 1, acks do
        if out[n + 2] == 1 and member[ackIds[n]] then out[n + 2] = 2 end
      end
    end
  end
end

if #due > 0 then
  local attempts = call('HMGET', KEYS[4], taskq_unpack(due))
  for n, id in ipairs(due) do
    taskq_record(KEYS[5], KEYS[6], ARGV[1], id, 'Queued', tonumber(taskq_str(attempts[n]) or '0'), now, '', '')
  end
end

if nids > 0 then
  call('LPUSH', KEYS[2], taskq_unpack(ids))
  -- attempts made before (retried, released or recovered tasks): the count moves into the token
  local attempts
  local counted = spares > 0 and call('EXISTS', KEYS[4]) == 1
  if counted then attempts = call('HMGET', KEYS[4], taskq_unpack(ids)) end
  local bodies = call('HMGET', KEYS[3], taskq_unpack(ids))
  local fences = {}
  -- fencing tokens, for the limits' bookkeeping
  local tokens = {}
  for n = 1, nids do
    local id = ids[n]
    -- a first attempt unless the attempts hash counts earlier ones
    local attempt, attemptText = 1, '1'
    if counted then
      attempt = tonumber(taskq_str(attempts[n]) or '0') + 1
      attemptText = taskq_int(attempt)
    end
    local _, token
    if plainFetched then
      _, _, token = taskq_emit_plain(statusKey, seqKey, channel, id, 'InProgress', attemptText, now, ARGV[firstWorker + n - 1], true)
    else
      local seqText
      _, _, seqText = taskq_emit(statusKey, seqKey, channel, id, 'InProgress', attempt, now, ARGV[firstWorker + n - 1], '')
      token = seqText .. ':' .. attemptText
    end
    local j = 2 * n
    fences[j - 1] = id
    fences[j] = token
    out[nout + 1] = id
    local body = bodies[n]
    if type(body) ~= 'string' then body = '' end -- none stored
    out[nout + 2] = body
    out[nout + 3] = token
    nout = nout + 3
    if lim then tokens[n] = token end
  end
  if lim then
    -- slots of the types' concurrency limits, starts in the rate windows (member: scope and token, unique)
    local held, active, starts = {}, {}, {}
    for n = 1, nids do
      local e = idLimit[n]
      if lim.rateMax then
        starts[#starts + 1] = taskq_fmt(now)
        starts[#starts + 1] = '0:' .. tokens[n]
      end
      if e and e.cap then
        held[#held + 1] = ids[n]
        held[#held + 1] = e.name
        active[e.name] = (active[e.name] or 0) + 1
      end
      if e and e.rateMax then
        starts[#starts + 1] = taskq_fmt(e.scope * TASKQ_SCOPE_SPAN + now)
        starts[#starts + 1] = taskq_int(e.scope) .. ':' .. tokens[n]
      end
    end
    if #held > 0 then
      call('HSET', KEYS[17], taskq_unpack(held))
      for t, n in pairs(active) do call('HINCRBY', KEYS[18], t, n) end
    end
    if #starts > 0 then call('ZADD', KEYS[19], taskq_unpack(starts)) end
  end
  if counted then call('HDEL', KEYS[4], taskq_unpack(ids)) end
  taskq_fence_set(KEYS[9], fences)
end
taskq_flush()
if paused then out[2] = -2 end
if asked > 0 and not paused then
  -- A pool that emptied the ready list waits for a wake message (or the next
  -- due time) before it asks again; one that left tasks there asks at once.
  -- Tasks the queue's limits hold back count as none, parked tasks only as
  -- many as their type has room for now.
  local left = 0
  if not queueHeld then
    left = call('LLEN', KEYS[1])
    if prioritized then left = left + call('ZCARD', KEYS[14]) end
    if lim and lim.typed then
      for _, e in pairs(lim.types) do
        if parkedOf(e) > 0 then left = left + math.min(e.parked, roomOf(e)) end
      end
    end
  end
  out[2] = left
  -- Waiting for work: idle sub-workers left and nothing ready for them. An
  -- enqueue pops it and names it in its wake message (see KEYS[27]).
  if handOff then
    listHandOff(left == 0 and spareCount + asked - nids or 0)
  else
    call('LREM', KEYS[27], 0, ARGV[2])
    if left == 0 and (nids < asked or spare) then call('RPUSH', KEYS[27], ARGV[2]) end
  end
  if left == 0 then
    local first = call('ZRANGE', KEYS[8], 0, 0, 'WITHSCORES')
    if first[2] then out[1] = math.max(0, tonumber(first[2]) - now) end
    if lim then
      -- a rate window that holds tasks back: come back when it reopens
      local reopen = -1
      local function sooner(ms)
        if ms > 0 and (reopen < 0 or ms < reopen) then reopen = ms end
      end
      if lim.rateMax and queueHeld then sooner(taskq_window_reopen(KEYS[19], 0, lim.rateMax, lim.rateMs, now)) end
      for _, e in pairs(lim.types) do
        if e.rateMax and parkedOf(e) > 0 then sooner(taskq_window_reopen(KEYS[19], e.scope, e.rateMax, e.rateMs, now)) end
      end
      if reopen > 0 and (out[1] < 0 or reopen < out[1]) then out[1] = reopen end
    end
  end
end
-- Acks alone from a pool with idle sub-workers (its queue was empty at its last
-- fetch): it waits for work, listed, while nothing is ready.
-- A hand-off pool is listed once per idle sub-worker (none: taken out).
if asked == 0 and handOff and relayed then
  -- the main thread's calls keep the listing
elseif asked == 0 and handOff then
  local nothingReady = spareCount > 0 and not paused and call('LLEN', KEYS[1]) == 0 and call('ZCARD', KEYS[14]) == 0
  listHandOff(nothingReady and spareCount or 0)
elseif asked == 0 and spare and call('LLEN', KEYS[1]) == 0 and call('ZCARD', KEYS[14]) == 0 then
  call('LREM', KEYS[27], 0, ARGV[2])
  call('RPUSH', KEYS[27], ARGV[2])
end
if lim and nacked > 0 and not paused then
  -- slots the acks freed that waiting tasks can take now (this fetch took
  -- what it wanted): announced, so that idle pools come for them
  local wake = 0
  for t, n in pairs(freed) do
    local e = lim.types[t]
    if e and e.cap and parkedOf(e) > 0 then wake = wake + math.min(n, e.parked, roomOf(e)) end
  end
  if queueFull then
    local room = lim.cap - taskq_inflight(KEYS[9])
    if room > 0 then
      local ready = call('LLEN', KEYS[1]) + call('ZCARD', KEYS[14])
      wake = wake + math.min(nacked, room, ready)
    end
  end
  if wake > 0 then call('PUBLISH', ARGV[4], wake) end
end
return taskq_reply(out)
