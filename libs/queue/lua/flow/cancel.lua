-- flow/cancel: cancels a flow that has not ended: state FlowCancelling, the
-- Waiting steps end Cancelled, and the released ones are to be cancelled
-- (the actions returned); the flow is FlowCancelled once every step ended
-- (at once when none was running).
-- KEYS[1] flow: the flow's hash
-- ARGV[1] flow events channel
-- ARGV[2] reason
-- Returns { 'not-found' }, { 'ended', state } or { 'cancelling', actions... }.
if redis.call('EXISTS', F) == 0 then return { 'not-found' } end
local state = redis.call('HGET', F, 'state')
if flow_ended[state] then return { 'ended', state } end
local now = taskq_now()
if state ~= 'FlowCancelling' then
  redis.call('HSET', F, 'state', 'FlowCancelling', 'reason', ARGV[2])
  flow_cancel_waiting(ARGV[2])
  flow_event(ARGV[1], now)
end
local out = { 'cancelling' }
flow_cancel_actions(out)
flow_maybe_end(ARGV[1], now)
return out
