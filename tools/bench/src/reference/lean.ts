/**
 * The lean reference: the design the performance issue describes ("moved
 * batches of tasks per Lua call, with a status write per task and published
 * events"), built as small as possible, so that the bench can show what each
 * of taskq's guarantees costs on this machine. It is a measuring stick, not a
 * queue: no recovery of a dead worker's tasks, no retries, no escaping of ids
 * or worker names in its JSON (the bench's ids and names need none).
 *
 * Every variant moves a batch of tasks per Lua call in both directions (acks
 * of the finished ones, then the next ones), writes a status per task and
 * transition into a status hash, publishes one message per call, and pushes
 * finished ids on a list (which the bench counts). The variants add, in this
 * order, what taskq does on top:
 *   lean           processing hash (id -> time), status "InProgress:<ms>"/"Done:<ms>"
 *   lean-list      + processing list (LPUSH at fetch, one LREM per ack) instead of the hash
 *   lean-fence     + fencing token per fetch (from a counter), checked and cleared at ack
 *   lean-attempts  + attempt count per task, carried as taskq carries it: in the fencing token
 *                    ('<seq>:<attempt>'), the Done record's attempt read from there; an attempts
 *                    hash counts only tasks that ran before (none in a drain), one EXISTS per call
 *   lean-json      + taskq's JSON status records (id, status, attempt, at, seq), published as a JSON array
 *   lean-full      + the worker's name, sent per task and recorded (everything taskq records)
 */

export const LEAN_SYSTEMS = ['lean', 'lean-list', 'lean-fence', 'lean-attempts', 'lean-json', 'lean-full'] as const;
export type LeanSystem = (typeof LEAN_SYSTEMS)[number];

export type LeanFeature = 'list' | 'fence' | 'attempts' | 'json' | 'workers';

const LADDER: readonly LeanFeature[] = ['list', 'fence', 'attempts', 'json', 'workers'];

/** The features of a variant: every rung of the ladder up to its own. */
export function leanFeatures(system: LeanSystem): LeanFeature[] {
  return LADDER.slice(0, LEAN_SYSTEMS.indexOf(system));
}

export function isLeanSystem(system: string): system is LeanSystem {
  return (LEAN_SYSTEMS as readonly string[]).includes(system);
}

/** Redis keys of the lean reference (one queue; the bench flushes the server between runs). */
export const LEAN_KEYS = {
  ready: 'lean:ready',
  processing: 'lean:processing',
  status: 'lean:status',
  tasks: 'lean:tasks',
  fence: 'lean:fence',
  attempts: 'lean:attempts',
  seq: 'lean:seq',
  finished: 'lean:finished',
  ids: 'lean:ids',
} as const;

export const LEAN_CHANNEL = 'lean:events';

/** The one field of the processing and fence hashes that is not a task (it keeps them hashtables). */
export const LEAN_HASHTABLE_FIELD = ' hashtable';

/** Keys in the order the script takes them. */
export const LEAN_SCRIPT_KEYS = [
  LEAN_KEYS.ready,
  LEAN_KEYS.processing,
  LEAN_KEYS.status,
  LEAN_KEYS.tasks,
  LEAN_KEYS.fence,
  LEAN_KEYS.attempts,
  LEAN_KEYS.seq,
  LEAN_KEYS.finished,
] as const;

/**
 * ARGV[1] features (comma-separated), ARGV[2] channel, ARGV[3] number of acks
 * A, then per ack: id [, worker][, token]; then W, the tasks wanted, then W
 * worker names (with `workers`). Reply: number of acks that stood, then per
 * task: id, body, attempt, token ('' without `fence`).
 */
export const LEAN_LUA = `
local F = {}
for f in string.gmatch(ARGV[1], '[^,]+') do F[f] = true end
-- The hashes of tasks in flight get one field whose value is too long for a
-- listpack, as taskq's fence hash does: a hashtable, not a listpack that
-- every lookup searches field by field. The references must not pay a cost
-- taskq does not.
if not F.list and redis.call('EXISTS', KEYS[2]) == 0 then redis.call('HSET', KEYS[2], '${LEAN_HASHTABLE_FIELD}', string.rep('-', 65)) end
if F.fence and redis.call('EXISTS', KEYS[5]) == 0 then redis.call('HSET', KEYS[5], '${LEAN_HASHTABLE_FIELD}', string.rep('-', 65)) end
local per = 1 + (F.workers and 1 or 0) + (F.fence and 1 or 0)
local acks = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = string.format('%.0f', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
local wantAt = 4 + acks * per
local want = tonumber(ARGV[wantAt])

local ids, nids, ackWorkers, ackTokens = {}, 0, {}, {}
if acks > 0 then
  local cand = {}
  for i = 1, acks do cand[i] = ARGV[4 + (i - 1) * per] end
  local tokens
  if F.fence then tokens = redis.call('HMGET', KEYS[5], unpack(cand)) end
  for i = 1, acks do
    local base = 4 + (i - 1) * per
    local ok = true
    if F.fence and tokens[i] ~= ARGV[base + per - 1] then ok = false end
    if ok and F.list and redis.call('LREM', KEYS[2], -1, cand[i]) ~= 1 then ok = false end
    if ok then
      nids = nids + 1
      ids[nids] = cand[i]
      if F.workers then ackWorkers[nids] = ARGV[base + 1] end
      if F.fence then ackTokens[nids] = ARGV[base + per - 1] end
    end
  end
end

local popped = {}
if want > 0 then popped = redis.call('RPOP', KEYS[1], want) or {} end
local npop = #popped

local seq = 0
if F.fence or F.json then
  local n = npop
  if F.json then n = n + nids end
  if n > 0 then seq = redis.call('INCRBY', KEYS[7], n) - n end
end

local st, nst, ev, nev = {}, 0, {}, 0
if nids > 0 then
  if not F.list then redis.call('HDEL', KEYS[2], unpack(ids)) end
  if F.fence then redis.call('HDEL', KEYS[5], unpack(ids)) end
  for i = 1, nids do
    local id = ids[i]
    local rec
    if F.json then
      seq = seq + 1
      local w = ''
      if F.workers then w = ',"worker":"' .. ackWorkers[i] .. '"' end
      rec = '{"id":"' .. id .. '","status":"Done","attempt":' .. (F.attempts and string.match(ackTokens[i], ':(%d+)$') or '1') .. ',"at":' .. now .. ',"seq":' .. string.format('%d', seq) .. w .. '}'
      nev = nev + 1; ev[nev] = rec
    else
      rec = 'Done:' .. now
      nev = nev + 1; ev[nev] = id .. ':Done'
    end
    nst = nst + 1; st[nst] = id
    nst = nst + 1; st[nst] = rec
  end
  redis.call('LPUSH', KEYS[8], unpack(ids))
end

local out = { nids }
if npop > 0 then
  -- attempts made before (none in a drain): the count moves into the token
  local att
  local counted = F.attempts and redis.call('EXISTS', KEYS[6]) == 1
  if counted then att = redis.call('HMGET', KEYS[6], unpack(popped)) end
  local bodies = redis.call('HMGET', KEYS[4], unpack(popped))
  local ph, fe = {}, {}
  for i = 1, npop do
    local id = popped[i]
    local attempt = 1
    if att then attempt = (tonumber(att[i]) or 0) + 1 end
    local token, seqText = '', ''
    if F.fence or F.json then
      seq = seq + 1
      seqText = string.format('%d', seq)
      token = seqText
    end
    if F.attempts then token = seqText .. ':' .. attempt end
    if F.list then ph[i] = id else ph[2 * i - 1] = id; ph[2 * i] = now end
    fe[2 * i - 1] = id; fe[2 * i] = token
    local rec
    if F.json then
      local w = ''
      if F.workers then w = ',"worker":"' .. ARGV[wantAt + i] .. '"' end
      rec = '{"id":"' .. id .. '","status":"InProgress","attempt":' .. attempt .. ',"at":' .. now .. ',"seq":' .. seqText .. w .. '}'
      nev = nev + 1; ev[nev] = rec
    else
      rec = 'InProgress:' .. now
      nev = nev + 1; ev[nev] = id .. ':InProgress'
    end
    nst = nst + 1; st[nst] = id
    nst = nst + 1; st[nst] = rec
    out[4 * i - 2] = id
    out[4 * i - 1] = bodies[i]
    out[4 * i] = attempt
    out[4 * i + 1] = token
  end
  if F.list then redis.call('LPUSH', KEYS[2], unpack(popped)) else redis.call('HSET', KEYS[2], unpack(ph)) end
  if F.fence then redis.call('HSET', KEYS[5], unpack(fe)) end
  if counted then redis.call('HDEL', KEYS[6], unpack(popped)) end
end
if nst > 0 then redis.call('HSET', KEYS[3], unpack(st)) end
if nev > 0 then
  local message
  if F.json then message = '[' .. table.concat(ev, ',') .. ']' else message = table.concat(ev, ',') end
  redis.call('PUBLISH', ARGV[2], message)
end
return out
`;
