-- list-page: one page of the tasks of one status, read from the structure
-- that holds them (Queue.listTasks). Reads only; one snapshot, so a page is
-- consistent however the queue moves meanwhile. Each element of the structure
-- is kept only if its status record says the status asked for (data written
-- before the Retrying index and the cancelled list came keeps Retrying tasks
-- unindexed in the delayed set and Cancelled ones in the finished list: they
-- are skipped, not shown under the wrong status).
--   Done, Cancelled, Dead, Failed: the finished, cancelled, dead and rejected
--     lists, newest first. Each is pushed at the moment of its task's record,
--     so it is in seq order (highest first). The cursor is the last element
--     read, its id and its record's seq: the page goes on after it (LPOS) or,
--     when it left the list (requeued, trimmed) or is another task of that id
--     now, at the first element whose record is older than the cursor's seq.
--   Delayed, Retrying: the delayed set (Retrying ones skipped) and the
--     Retrying index, soonest first (ties by id, byte order). The cursor is
--     the last element read, its due time and id: the page goes on after it
--     in that order, wherever it went meanwhile.
--   Queued: the order workers take them: priorities above the default (the
--     prioritized set), the ready list from its consuming end, the priorities
--     below, then the parked set. The cursor is an offset into that line,
--     which moves as workers take tasks.
-- KEYS[1] finished: finished list (Done, newest first)
-- KEYS[2] cancelled: cancelled list (newest first)
-- KEYS[3] dead: dead list
-- KEYS[4] rejected: rejected list (Failed)
-- KEYS[5] delayed: delayed sorted set (Delayed and Retrying)
-- KEYS[6] retrying: the Retrying tasks of the delayed set
-- KEYS[7] prioritized: ready tasks with a priority other than the default
-- KEYS[8] ready: ready list
-- KEYS[9] parked: ready tasks set aside while their type is at its limit
-- KEYS[10] status: status hash
-- KEYS[11] tasks: tasks hash
-- ARGV[1] status: Done | Cancelled | Dead | Failed | Delayed | Retrying | Queued
-- ARGV[2] most tasks to return
-- ARGV[3] most elements to read (a page of few matches ends early, with a cursor)
-- ARGV[4] cursor: '' (the first page), else the last element read before: its id (lists, sets) or offset (Queued)
-- ARGV[5] cursor: its record's seq (lists) or due time (sets); '' for Queued
-- Returns { more (1: the structure goes on after this page, 0: it ended),
-- cursor id or offset, cursor seq or due time, then per task: id, record
-- ('' when none is stored: a task still where enqueue put it), stored body ('' if none) }.
local status = ARGV[1]
local limit = tonumber(ARGV[2])
local budget = tonumber(ARGV[3])
local cursorId, cursorKey = ARGV[4], ARGV[5]
-- the reply: more, cursor (two parts), then the rows
local out = { 0, '', '' }
local nrows, read = 0, 0
-- the last element read: its id, and its record's seq (lists) or due time (sets)
local lastId, lastKey = cursorId, cursorKey

-- Reads the elements of `ids` in order, keeping those whose record says
-- `status`, until the page is full. Returns how many it read.
local function keep(ids)
  local n = #ids
  if n == 0 then return 0 end
  local recs = redis.call('HMGET', KEYS[10], taskq_unpack(ids))
  local bodies = redis.call('HMGET', KEYS[11], taskq_unpack(ids))
  local used = 0
  for i = 1, n do
    if nrows >= limit then break end
    used = i
    local rec, body = taskq_str(recs[i]), taskq_str(bodies[i]) or ''
    local is = nil
    if rec then
      is = string.match(rec, '"status":"(%a+)"')
      -- lists: an element without a record keeps the seq of the one before
      lastKey = string.match(rec, '"seq":(%d+)') or lastKey
    elseif body ~= '' then
      is = 'Queued' -- no record: its body stands for its Queued record
    end
    if is == status then
      out[#out + 1] = ids[i]
      out[#out + 1] = rec or ''
      out[#out + 1] = body
      nrows = nrows + 1
    end
    lastId = ids[i]
  end
  return used
end

-- the byte order Redis gives members of equal score (Lua's < follows the server's locale)
local function bytesAfter(a, b)
  if a == b then return false end
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x > y end
  end
  return #a > #b
end

-- the seq of a task's record, or nil
-- The first index in [lo, hi) where `holds(i)` is true, or hi: a binary
-- search over positions where it is false, then true.
local function firstWhere(lo, hi, holds)
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if holds(mid) then hi = mid else lo = mid + 1 end
  end
  return lo
end

local function seqOf(id)
  local rec = taskq_str(redis.call('HGET', KEYS[10], id))
  return rec and tonumber(string.match(rec, '"seq":(%d+)') or '')
end

if status == 'Done' or status == 'Cancelled' or status == 'Dead' or status == 'Failed' then
  local list = KEYS[1]
  if status == 'Cancelled' then list = KEYS[2] elseif status == 'Dead' then list = KEYS[3] elseif status == 'Failed' then list = KEYS[4] end
  local len = redis.call('LLEN', list)
  local pos = 0
  if cursorId ~= '' then
    local cut = tonumber(cursorKey)
    local at = redis.call('LPOS', list, cursorId)
    if at and seqOf(cursorId) == cut then
      pos = at + 1
    else
      -- gone (requeued, trimmed) or another task of that id now: the first
      -- element whose record is older than the cursor's (the list is newest
      -- first); an element without a record takes the seq of the next one that has one
      local function seqAt(i)
        for j = i, math.min(len - 1, i + 16) do
          local s = seqOf(redis.call('LINDEX', list, j))
          if s then return s end
        end
        return 0
      end
      pos = firstWhere(0, len, function(i) return seqAt(i) < cut end)
    end
  end
  while nrows < limit and read < budget and pos < len do
    local n = math.min(limit - nrows, budget - read)
    local used = keep(redis.call('LRANGE', list, pos, pos + n - 1))
    if used == 0 then break end
    read = read + used
    pos = pos + used
  end
  if pos < len then out[1] = 1 end
  out[2], out[3] = lastId, lastKey
elseif status == 'Delayed' or status == 'Retrying' then
  local set = KEYS[5]
  if status == 'Retrying' then set = KEYS[6] end
  local len = redis.call('ZCARD', set)
  local pos = 0
  if cursorId ~= '' then
    local due = redis.call('ZSCORE', set, cursorId)
    if due and tonumber(due) == tonumber(cursorKey) then
      pos = redis.call('ZRANK', set, cursorId) + 1
    else
      -- after (due, id), wherever it went: the elements due earlier, then
      -- those due then whose id sorts at or before it
      pos = firstWhere(redis.call('ZCOUNT', set, '-inf', '(' .. cursorKey), redis.call('ZCOUNT', set, '-inf', cursorKey),
        function(i) return bytesAfter(redis.call('ZRANGE', set, i, i)[1], cursorId) end)
    end
  end
  while nrows < limit and read < budget and pos < len do
    local n = math.min(limit - nrows, budget - read)
    local flat = redis.call('ZRANGE', set, pos, pos + n - 1, 'WITHSCORES')
    local ids, dues = {}, {}
    for i = 1, #flat, 2 do
      ids[#ids + 1] = flat[i]
      dues[#dues + 1] = flat[i + 1]
    end
    local used = keep(ids)
    if used == 0 then break end
    read = read + used
    pos = pos + used
    lastKey = dues[used]
  end
  if pos < len then out[1] = 1 end
  out[2], out[3] = lastId, lastKey
elseif status == 'Queued' then
  -- the line: [0, high) prioritized above the default, [high, high + plain)
  -- the ready list from its consuming end, then the prioritized below, then parked
  local high = redis.call('ZCOUNT', KEYS[7], '-inf', '(40000000000000')
  local plain = redis.call('LLEN', KEYS[8])
  local low = redis.call('ZCARD', KEYS[7]) - high
  local parked = redis.call('ZCARD', KEYS[9])
  local len = high + plain + low + parked
  local pos = 0
  if cursorId ~= '' then pos = tonumber(cursorId) end
  while nrows < limit and read < budget and pos < len do
    local n = math.min(limit - nrows, budget - read)
    local ids
    if pos < high then
      ids = redis.call('ZRANGE', KEYS[7], pos, math.min(high, pos + n) - 1)
    elseif pos < high + plain then
      -- the ready list from its consuming (right) end: the r-th is at index -(r + 1)
      local r = pos - high
      local got = redis.call('LRANGE', KEYS[8], -math.min(plain, r + n), -(r + 1))
      ids = {}
      for i = #got, 1, -1 do ids[#ids + 1] = got[i] end
    elseif pos < high + plain + low then
      local r = pos - plain
      ids = redis.call('ZRANGE', KEYS[7], r, math.min(high + low, r + n) - 1)
    else
      local r = pos - high - plain - low
      ids = redis.call('ZRANGE', KEYS[9], r, r + n - 1)
    end
    local used = keep(ids)
    if used == 0 then break end
    read = read + used
    pos = pos + used
  end
  if pos < len then out[1] = 1 end
  out[2] = string.format('%d', pos)
end
return taskq_reply(out)
