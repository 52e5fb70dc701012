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
-- ARGV[1] events channel
-- ARGV[2] consumer id
-- ARGV[3] '1' if every worker name (acks' and fetches') and acked id needs no
--   JSON escaping (the caller checked), else '0'
-- ARGV[4] number of acks A
-- ARGV[5 .. 4+3A] ack triples (task id, worker name, fencing token)
-- ARGV[5+3A ..] one worker name per task wanted (recorded as the task's worker)
-- Returns -1 if the consumer is not registered (it was presumed dead and its
-- tasks recovered: it must register again; nothing was done).
-- Otherwise a flat array: ms until the earliest delayed task is due (-1:
-- none, or not looked up because tasks are still ready), the number of tasks
-- still ready after this fetch (-1 when no task was wanted, -2 when the queue
-- is paused: the acks land, nothing is promoted or handed out), A ack flags (1
-- acknowledged, 0 refused), then per task: id, encoded task ('' if none
-- stored), token (its attempt is the part after the colon).
local call = redis.call
-- per-task loops read these often: locals, not global lookups
local KEYS, ARGV, type = KEYS, ARGV, type
local find, sub = string.find, string.sub
local now = taskq_now()
if not call('ZSCORE', KEYS[7], ARGV[2]) then return -1 end
-- fetching is proof of life: refresh the heartbeat
call('ZADD', KEYS[7], now, ARGV[2])

local acks = tonumber(ARGV[4])
local statusKey, seqKey, channel = KEYS[5], KEYS[6], ARGV[1]
local firstWorker = 5 + 3 * acks
-- records of plain names are built without scanning them for characters to escape
local plain = ARGV[3] == '1'
local out = { -1, -1 }
local nout = 2

-- acks, first pass: which stand (fencing token, and still in the processing list)
local ackedIds, nacked = {}, 0
local ackWorkers, ackTokens = {}, {}
if acks > 0 then
  local ackIds = {}
  for n = 1, acks do ackIds[n] = ARGV[2 + 3 * n] end
  local tokens = call('HMGET', KEYS[9], taskq_unpack(ackIds))
  -- the acks whose token stands, by id (an id acked twice in one call counts once)
  local held, nheld = {}, 0
  for n = 1, acks do
    local id = ackIds[n]
    out[n + 2] = 0
    -- a missing token is false (Redis) or a null userdata (the in-memory Redis): equal to no string
    if held[id] == nil and tokens[n] == ARGV[4 + 3 * n] then
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
        ackWorkers[nacked] = ARGV[3 + 3 * n]
        ackTokens[nacked] = ARGV[4 + 3 * n]
      end
    end
  end
  nout = acks + 2
end

local wanted = #ARGV - firstWorker + 1
-- a paused queue hands out nothing and promotes nothing (the acks above land)
local paused = wanted > 0 and call('EXISTS', KEYS[13]) == 1
if paused then wanted = 0 end
-- due tasks go to the consuming end: they run next, not behind a backlog
local due = {}
if not paused then due = call('ZRANGEBYSCORE', KEYS[8], '-inf', string.format('%.0f', now), 'LIMIT', 0, 1000) end
if #due > 0 then
  call('ZREM', KEYS[8], taskq_unpack(due))
  taskq_ready(KEYS[1], KEYS[14], KEYS[15], due, true)
end
local ids, nids = {}, 0
-- tasks with a priority (one EXISTS when there are none): the levels above
-- the default first, then the ready list (the default level), then the levels below
local prioritized = wanted > 0 and call('EXISTS', KEYS[14]) == 1
local function takeLevels(min, max)
  local taken = call('ZRANGEBYSCORE', KEYS[14], min, max, 'LIMIT', 0, wanted - nids)
  if #taken == 0 then return end
  call('ZREM', KEYS[14], taskq_unpack(taken))
  for n = 1, #taken do ids[nids + n] = taken[n] end
  nids = nids + #taken
end
local DEFAULT_LEVEL_SCORE = '40000000000000' -- (9 - 5) * TASKQ_LEVEL_SPAN: priority 5 is the ready list
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
-- ids need no escaping since enqueue refuses such ids; one scan of the batch
-- still catches an id an earlier version accepted (those records are escaped)
local plainFetched = plain and not (nids > 0 and find(table.concat(ids), '[%c"\\]'))
-- one seq number per record: Done per ack, Queued per promotion, InProgress per task handed out
taskq_reserve(KEYS[6], nacked + #due + nids)
-- The attempts, cancels and recoveries hashes are mostly absent (they hold
-- only retried, cancelled or recovered tasks): one EXISTS for the three
-- spares the per-key checks below when none is there. Nothing here adds to
-- them, so what is absent now stays absent.
local spares = 0
if nacked > 0 or nids > 0 then spares = call('EXISTS', KEYS[4], KEYS[10], KEYS[12]) end

if nacked > 0 then
  call('HDEL', KEYS[9], taskq_unpack(ackedIds))
  -- cancel requests and recovery counts are rare: clear them only if there are any
  if spares > 0 and call('EXISTS', KEYS[10]) == 1 then call('HDEL', KEYS[10], taskq_unpack(ackedIds)) end
  if spares > 0 and call('EXISTS', KEYS[12]) == 1 then call('HDEL', KEYS[12], taskq_unpack(ackedIds)) end
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
  end
  if counted then call('HDEL', KEYS[4], taskq_unpack(ids)) end
  -- A hash of up to 128 short fields is a listpack, which Redis searches
  -- field by field; the fence hash holds every task in flight, so it gets a
  -- field whose value is too long for a listpack when it is created: then it
  -- stays a hashtable (about 7% of a drain's Redis work). The field's name has
  -- a space, so it is never a task id.
  if call('EXISTS', KEYS[9]) == 0 then
    fences[2 * nids + 1] = 'fence hash encoding'
    fences[2 * nids + 2] = 'hashtable: this value is longer than 64 bytes, so Redis never stores this hash as a listpack'
  end
  call('HSET', KEYS[9], taskq_unpack(fences))
end
taskq_flush()
if paused then out[2] = -2 end
if wanted > 0 then
  -- A pool that emptied the ready list waits for a wake message (or the next
  -- due time) before it asks again; one that left tasks there asks at once.
  local left = call('LLEN', KEYS[1])
  if prioritized then left = left + call('ZCARD', KEYS[14]) end
  out[2] = left
  if left == 0 then
    local first = call('ZRANGE', KEYS[8], 0, 0, 'WITHSCORES')
    if first[2] then out[1] = math.max(0, tonumber(first[2]) - now) end
  end
end
return taskq_reply(out)
