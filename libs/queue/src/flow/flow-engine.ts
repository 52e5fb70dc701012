import { decodeStatusRecord, type Logger } from '@taskq/recorder';
import { loadFlowScript, SCRIPTS } from '../lua-script';
import { queueKeys, type QueueKeys } from '../keys';
import { scriptKeys } from '../script-keys';
import type { RedisClient } from '../redis-handle';
import { DEFAULT_PRIORITY, encodeTaskTail, validateInput, type JsonValue, type TaskInput } from '../task';
import { flowKeys } from './flow-keys';

/** The flow scripts, loaded once per process. */
export const FLOW_SCRIPTS = {
  create: loadFlowScript('create'),
  note: loadFlowScript('note'),
  cancel: loadFlowScript('cancel'),
  reconcile: loadFlowScript('reconcile'),
} as const;

/** What a flow script asks its caller to do next: enqueue a released step, or cancel one. */
export interface FlowAction {
  readonly kind: 'release' | 'cancel';
  readonly step: string;
  readonly queue: string;
  readonly taskId: string;
  /** The step's task input (JSON). */
  readonly input: string;
  /** release: the results of its deps that ended Done, a JSON object by step. */
  readonly inputs: string;
  /** release: the errors of its deps that did not, a JSON object by step. */
  readonly errors: string;
}

/** The actions in a flow script's reply, from index `from` on (7 values each). */
export function decodeFlowActions(reply: readonly unknown[], from: number): FlowAction[] {
  const actions: FlowAction[] = [];
  for (let i = from; i + 6 < reply.length; i += 7) {
    const [kind, step, queue, taskId, input, inputs, errors] = reply.slice(i, i + 7).map(String);
    actions.push({ kind: kind as FlowAction['kind'], step, queue, taskId, input, inputs, errors });
  }
  return actions;
}

/** The flow reference a step's task carries in its queue's flow-members hash. */
function flowRef(flowId: string, step: string): string {
  return `${flowId} ${step}`;
}

/**
 * Carries out a flow's actions, each idempotent: enqueues the released
 * steps (one enqueue call per queue; a step whose task exists already is
 * left as it is) and cancels the steps to cancel (a step whose task was
 * never enqueued is written Cancelled, so a late enqueue of it does nothing).
 */
export async function performFlowActions(redis: RedisClient, prefix: string, flowId: string, actions: readonly FlowAction[]): Promise<void> {
  const releases = new Map<string, string[]>();
  for (const a of actions) {
    if (a.kind !== 'release') continue;
    const input = JSON.parse(a.input) as TaskInput;
    const tail = encodeTaskTail(input, `step ${a.step}`, {
      id: flowId,
      step: a.step,
      inputs: JSON.parse(a.inputs) as Record<string, JsonValue>,
      errors: JSON.parse(a.errors) as Record<string, string>,
    });
    const level = input.priority !== undefined && input.priority !== DEFAULT_PRIORITY ? String(input.priority) : '';
    let args = releases.get(a.queue);
    if (!args) releases.set(a.queue, (args = []));
    args.push(a.taskId, tail, validateInput(input), level, flowRef(flowId, a.step));
  }
  await Promise.all(
    [...releases].map(([queue, args]) => {
      const k = queueKeys(queue, prefix);
      return SCRIPTS.enqueue.run(redis, scriptKeys('enqueue', k), [k.events, k.wake, 'f', ...args]);
    }),
  );
  const cancelled = await Promise.all(
    actions
      .filter((a) => a.kind === 'cancel')
      .map(async (a) => {
        const k = queueKeys(a.queue, prefix);
        const input = JSON.parse(a.input) as TaskInput;
        const tombstone = encodeTaskTail(input, `step ${a.step}`, { id: flowId, step: a.step, inputs: {}, errors: {} });
        const reason = `flow ${flowId} ended: step ${a.step} cancelled`;
        const [outcome] = (await SCRIPTS.cancel.run(redis, scriptKeys('cancel', k), [k.events, k.control, a.taskId, reason, tombstone, flowRef(flowId, a.step)])) as string[];
        return outcome === 'cancelled' ? k : undefined;
      }),
  );
  // the steps cancelled here left notices in their queues' outboxes: carried now, not at the next janitor pass
  const queues = new Map(cancelled.filter((k): k is QueueKeys => k !== undefined).map((k) => [k.queue, k]));
  for (const k of queues.values()) await moveFlowNotices(redis, k);
}

/** Notices carried per read of the outbox. */
const OUTBOX_BATCH = 100;

/**
 * Carries the queue's flow notices into their flows, oldest first: for each,
 * the step's result (a Done step) or last error, the flow's note script,
 * the actions it returned, and only then the notice's removal. A notice
 * carried twice (two movers, or a mover that stopped before the removal)
 * changes nothing the second time. Returns the number of notices carried.
 */
export async function moveFlowNotices(redis: RedisClient, keys: QueueKeys, logger?: Logger): Promise<number> {
  const fk = flowKeys(keys.prefix);
  let moved = 0;
  for (;;) {
    const entries = await redis.lrange(keys.flowOutbox, -OUTBOX_BATCH, -1);
    if (entries.length === 0) return moved;
    for (const entry of entries.reverse()) {
      const [status, taskId, flowId, step] = entry.split(' ');
      if (step === undefined) {
        logger?.warn({ queue: keys.queue, entry }, `flow outbox of ${keys.queue}: a malformed notice dropped: ${entry}`);
      } else {
        const [result, rawRecord] = await Promise.all([redis.hget(keys.results, taskId), status === 'Done' ? null : redis.hget(keys.status, taskId)]);
        let error = '';
        if (rawRecord) {
          try {
            error = decodeStatusRecord(rawRecord).reason ?? '';
          } catch {
            error = '';
          }
        }
        const reply = (await FLOW_SCRIPTS.note.run(redis, [fk.flow(flowId)], [fk.events, step, taskId, status, status === 'Done' ? (result ?? '') : '', error])) as unknown[];
        if (reply[0] === 'noted') await performFlowActions(redis, keys.prefix, flowId, decodeFlowActions(reply, 1));
        // its flow heard of its end: retention may forget the task now (see trim.lua)
        await redis.hdel(keys.flowMembers, taskId);
      }
      await redis.lrem(keys.flowOutbox, -1, entry);
      moved++;
    }
    if (entries.length < OUTBOX_BATCH) return moved;
  }
}

/** Flows reconciled per janitor pass. */
const UNSETTLED_BATCH = 50;

/**
 * Finishes what adders and cancellers left undone (see FlowKeys.unsettled):
 * for each flow past its time, the actions its state calls for. Returns the
 * number of flows reconciled.
 */
export async function reconcileUnsettledFlows(redis: RedisClient, prefix: string, logger?: Logger): Promise<number> {
  const fk = flowKeys(prefix);
  const due = await redis.zrangebyscore(fk.unsettled, '-inf', Date.now(), 'LIMIT', 0, UNSETTLED_BATCH);
  for (const flowId of due) {
    const reply = (await FLOW_SCRIPTS.reconcile.run(redis, [fk.flow(flowId)], [])) as unknown[];
    if (reply[0] === 'open') {
      const actions = decodeFlowActions(reply, 1);
      if (actions.length > 0) logger?.warn({ flow: flowId, actions: actions.length }, `flow ${flowId}: finishing ${actions.length} step action(s) its adder or canceller left undone`);
      await performFlowActions(redis, prefix, flowId, actions);
    }
    await redis.zrem(fk.unsettled, flowId);
  }
  return due.length;
}

/** Index entries looked at per prune. */
const PRUNE_BATCH = 100;

/**
 * Drops from the flow index (see FlowKeys.index) the oldest flows whose hash
 * expired (their retention after they ended ran out), up to PRUNE_BATCH of
 * those created more than `minAgeMs` ago. Returns how many it dropped.
 */
export async function pruneFlowIndex(redis: RedisClient, prefix: string, minAgeMs = 60_000): Promise<number> {
  const fk = flowKeys(prefix);
  const oldest = await redis.zrangebyscore(fk.index, '-inf', Date.now() - minAgeMs, 'LIMIT', 0, PRUNE_BATCH);
  if (oldest.length === 0) return 0;
  const exists = await Promise.all(oldest.map((id) => redis.exists(fk.flow(id))));
  const gone = oldest.filter((_, i) => exists[i] === 0);
  if (gone.length > 0) await redis.zrem(fk.index, ...gone);
  return gone.length;
}
