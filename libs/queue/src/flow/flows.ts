import { randomBytes } from 'node:crypto';
import { StatusRecorder, type StatusRecord } from '@taskq/recorder';
import { DEFAULT_RETENTION } from '../config';
import { queueKeys } from '../keys';
import type { QueueClientOptions } from '../options';
import { QueueClient } from '../queue-client';
import type { RedisClient } from '../redis-handle';
import { InvalidFlowError } from '../errors/invalid-flow-error';
import type { JsonValue } from '../task';
import { assertFlowName, flowKeys, type FlowKeys } from './flow-keys';
import { compileFlow, type FlowNode } from './flow-spec';
import { decodeFlowActions, FLOW_SCRIPTS, performFlowActions } from './flow-engine';

/** What a flow does when a step ends Dead, Failed or Cancelled. */
export type FlowPolicy = 'failFast' | 'continue';

/** A flow's status: running, ending (a failure or a cancel being carried out), or ended. */
export type FlowStatus = 'FlowRunning' | 'FlowFailing' | 'FlowCancelling' | 'FlowDone' | 'FlowFailed' | 'FlowCancelled';

/** The statuses of a flow that has ended: nothing of it runs any more. */
export const FLOW_ENDED: ReadonlySet<FlowStatus> = new Set<FlowStatus>(['FlowDone', 'FlowFailed', 'FlowCancelled']);

/** A step as its flow sees it: Waiting for its deps, Released (its task is in its queue), or how its task ended. */
export type FlowStepStatus = 'Waiting' | 'Released' | 'Done' | 'Dead' | 'Failed' | 'Cancelled';

/** Options of flows.add. */
export interface FlowAddOptions {
  /** The flow's id (1-100 characters, task id rules, no braces): adding an id that exists is a no-op that returns it. Default: generated. */
  readonly id?: string;
  /**
   * `failFast` (default): a step that ends Dead, Failed or Cancelled fails the
   * flow: the steps not started end Cancelled, the running ones are
   * cancelled, and the flow ends FlowFailed once none runs. `continue`: the
   * steps that wait for it still run once all they wait for ended, with
   * its error in `task.flow.errors`; the flow ends FlowFailed if any step did
   * not end Done, FlowDone otherwise.
   */
  readonly policy?: FlowPolicy;
  /** How long the flow's state is kept after it ended, ms. Default 24 h (as finished tasks). */
  readonly retentionMs?: number;
}

/** A flow as added: its id and its steps' task ids. */
export interface AddedFlow {
  readonly id: string;
  /** false when a flow of this id existed already (it is returned as it is). */
  readonly created: boolean;
  readonly steps: readonly { readonly name: string; readonly queue: string; readonly taskId: string; readonly dependsOn: readonly string[] }[];
}

/** A flow's state without its steps (see flows.summaries). */
export type FlowSummary = Omit<FlowState, 'steps'>;

/** The summary fields of a flow's hash. */
function decodeSummary(h: Record<string, string | undefined>): FlowSummary {
  const num = (f: string): number => Number(h[f] ?? 0);
  return {
    id: h['id'] ?? '',
    status: h['state'] as FlowStatus,
    policy: h['policy'] as FlowPolicy,
    createdAt: num('createdAt'),
    ...(h['endedAt'] !== undefined ? { endedAt: num('endedAt') } : {}),
    seq: num('seq'),
    at: num('at'),
    total: num('total'),
    done: num('done'),
    failed: num('failed'),
    cancelled: num('cancelled'),
    ...(h['reason'] !== undefined ? { reason: h['reason'] } : {}),
  };
}

/** One step of a flow as flows.get reads it. */
export interface FlowStepState {
  readonly name: string;
  readonly queue: string;
  readonly taskId: string;
  readonly type: string;
  readonly dependsOn: readonly string[];
  readonly status: FlowStepStatus;
  /** A Done step's result (undefined: its handler returned nothing). */
  readonly result?: JsonValue;
  /** Why a step did not end Done. */
  readonly error?: string;
  /** A Released step's task status record in its queue (undefined before its enqueue landed). */
  readonly task?: StatusRecord;
}

/** A flow's state (see flows.get). */
export interface FlowState {
  readonly id: string;
  readonly status: FlowStatus;
  readonly policy: FlowPolicy;
  readonly createdAt: number;
  readonly endedAt?: number;
  /** The flow's event count and the time of its last event (see FlowEvent). */
  readonly seq: number;
  readonly at: number;
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  readonly cancelled: number;
  /** Why it is failing, failed or cancelled. */
  readonly reason?: string;
  readonly steps: readonly FlowStepState[];
}

/**
 * A flow event, published on `<prefix>:flow-events` by the script that made
 * the change: the flow's status and counts after it, and for a step's end
 * the step, its status and its task id. `seq` counts the flow's events.
 */
export interface FlowEvent {
  readonly flow: string;
  readonly status: FlowStatus;
  readonly done: number;
  readonly failed: number;
  readonly cancelled: number;
  readonly total: number;
  readonly seq: number;
  readonly at: number;
  readonly step?: string;
  readonly stepStatus?: FlowStepStatus;
  readonly taskId?: string;
}

/** Parses a flow event message; undefined when it is not one. */
export function decodeFlowEvent(message: string): FlowEvent | undefined {
  try {
    const v = JSON.parse(message) as Record<string, unknown>;
    if (typeof v['flow'] !== 'string' || typeof v['status'] !== 'string' || typeof v['seq'] !== 'number') return undefined;
    return v as unknown as FlowEvent;
  } catch {
    return undefined;
  }
}

/** Options of Flows: the default queue of steps (`queue`), how to reach Redis. */
export type FlowsOptions = QueueClientOptions;

/** How long an adder or canceller has to carry out its actions before a janitor does, ms. */
const SETTLE_MS = 30_000;

/**
 * Flows of tasks kept in Redis: chains, groups, chords and DAGs whose steps
 * are tasks in any queues. Adding one is one script step; the workers that
 * run the steps and the janitors carry it on, so no process has to stay.
 *
 * ```ts
 * const flows = new Flows({ queue: 'media', connection: 'redis://127.0.0.1:6379' });
 * const { id } = await flows.add(chord(group(a, b, c), callback));
 * ```
 */
export class Flows extends QueueClient {
  private readonly fk: FlowKeys;

  // no default value: the constructor's length stays 1, as Queue's
  constructor(options?: FlowsOptions) {
    super(options ?? {}, 'taskq-flows');
    this.fk = flowKeys(this.keys.prefix);
  }

  private redis(): RedisClient | Promise<RedisClient> {
    return this.connection.client();
  }

  /**
   * Adds a flow: validates every step (InvalidFlowError, InvalidTaskError;
   * nothing is written then), writes the flow in one script step, and
   * enqueues the steps that wait for nothing. Steps' task ids are
   * `<flow id>:<step name>`.
   */
  async add(root: FlowNode, options: FlowAddOptions = {}): Promise<AddedFlow> {
    const id = options.id ?? `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    assertFlowName('a flow id', id);
    const policy = options.policy ?? 'failFast';
    if (policy !== 'failFast' && policy !== 'continue') throw new InvalidFlowError(`policy must be failFast or continue, got ${JSON.stringify(policy)}`);
    const retentionMs = options.retentionMs ?? DEFAULT_RETENTION.maxAgeMs;
    if (!(Number.isInteger(retentionMs) && retentionMs > 0)) throw new InvalidFlowError(`retentionMs must be a whole number > 0, got ${String(retentionMs)}`);
    const steps = compileFlow(root, this.keys.queue);
    const args: string[] = [this.fk.events, id, policy, String(retentionMs), JSON.stringify(steps.map((s) => s.name))];
    for (const s of steps) args.push(s.queue, `${id}:${s.name}`, JSON.stringify(s.input), JSON.stringify(s.deps), JSON.stringify(s.next));
    const redis = await this.redis();
    if ((await redis.exists(this.fk.flow(id))) === 0) await this.assertStepIdsFree(redis, id, steps);
    const now = Date.now();
    // first the promise that someone finishes it, then the flow
    await redis.zadd(this.fk.unsettled, now + SETTLE_MS, id);
    const reply = (await FLOW_SCRIPTS.create.run(redis, [this.fk.flow(id)], args)) as unknown[];
    const created = reply[0] === 'created';
    if (created) {
      await redis.zadd(this.fk.index, Number(reply[1]), id);
      await performFlowActions(redis, this.keys.prefix, id, decodeFlowActions(reply, 2));
    } else {
      // it exists: finish whatever an earlier add of it left undone
      await this.reconcile(redis, id);
    }
    await redis.zrem(this.fk.unsettled, id);
    const stored = created ? undefined : await this.get(id);
    return {
      id,
      created,
      steps: stored
        ? stored.steps.map((s) => ({ name: s.name, queue: s.queue, taskId: s.taskId, dependsOn: s.dependsOn }))
        : steps.map((s) => ({ name: s.name, queue: s.queue, taskId: `${id}:${s.name}`, dependsOn: s.deps })),
    };
  }

  /**
   * Refuses a new flow whose steps' task ids are taken in their queues (by an
   * earlier flow of the same id, forgotten since, whose tasks are still kept,
   * e.g. a Dead step): their enqueues would do nothing and the flow would
   * never end.
   */
  private async assertStepIdsFree(redis: RedisClient, id: string, steps: readonly { name: string; queue: string }[]): Promise<void> {
    const byQueue = new Map<string, string[]>();
    for (const s of steps) byQueue.set(s.queue, [...(byQueue.get(s.queue) ?? []), `${id}:${s.name}`]);
    for (const [queue, ids] of byQueue) {
      const found = await redis.hmget(queueKeys(queue, this.keys.prefix).tasks, ...ids);
      const taken = ids.filter((_, i) => found[i] !== null);
      if (taken.length > 0) {
        throw new InvalidFlowError(`flow ${id}: the task ids ${taken.join(', ')} exist in queue ${queue} already (an earlier flow of this id, forgotten since?): give the flow another id`);
      }
    }
  }

  private async reconcile(redis: RedisClient, id: string): Promise<void> {
    const reply = (await FLOW_SCRIPTS.reconcile.run(redis, [this.fk.flow(id)], [])) as unknown[];
    if (reply[0] === 'open') await performFlowActions(redis, this.keys.prefix, id, decodeFlowActions(reply, 1));
  }

  /**
   * The state of each flow without its steps (one HMGET each, in one round
   * trip), in the order asked; a flow unknown or forgotten is left out.
   */
  async summaries(ids: readonly string[]): Promise<FlowSummary[]> {
    for (const id of ids) assertFlowName('a flow id', id);
    if (ids.length === 0) return [];
    const redis = await this.redis();
    const fields = ['id', 'state', 'policy', 'createdAt', 'endedAt', 'seq', 'at', 'total', 'done', 'failed', 'cancelled', 'reason'] as const;
    let replies: (string | null)[][];
    if ((redis as { isCluster?: boolean }).isCluster) {
      // each flow has a slot of its own, and a Cluster pipeline takes one slot: the reads go side by side
      replies = await Promise.all(ids.map((id) => redis.hmget(this.fk.flow(id), ...fields)));
    } else {
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.hmget(this.fk.flow(id), ...fields);
      replies = ((await pipeline.exec()) ?? []).map(([err, value]) => {
        if (err) throw err;
        return value as (string | null)[];
      });
    }
    const out: FlowSummary[] = [];
    for (const v of replies) {
      if (v[0] === null) continue;
      const h: Record<string, string | undefined> = {};
      fields.forEach((f, i) => (h[f] = v[i] ?? undefined));
      out.push(decodeSummary(h));
    }
    return out;
  }

  /** A flow's state and its steps' (undefined: unknown, or forgotten after its retention). */
  async get(id: string): Promise<FlowState | undefined> {
    assertFlowName('a flow id', id);
    const redis = await this.redis();
    const h = await redis.hgetall(this.fk.flow(id));
    if (h['id'] === undefined) return undefined;
    const names = JSON.parse(h['names'] ?? '[]') as string[];
    const released = new Map<string, string[]>();
    for (const n of names) {
      if (h[`st:${n}`] !== 'Released') continue;
      const q = h[`q:${n}`] ?? '';
      const ids = released.get(q) ?? [];
      ids.push(h[`t:${n}`] ?? '');
      released.set(q, ids);
    }
    const records = new Map<string, StatusRecord | undefined>();
    await Promise.all(
      [...released].map(async ([q, ids]) => {
        for (const [taskId, rec] of await new StatusRecorder(redis, queueKeys(q, this.keys.prefix)).getMany(ids)) records.set(`${q}\n${taskId}`, rec);
      }),
    );
    const steps = names.map((n): FlowStepState => {
      const queue = h[`q:${n}`] ?? '';
      const taskId = h[`t:${n}`] ?? '';
      const status = (h[`st:${n}`] ?? 'Waiting') as FlowStepStatus;
      const result = h[`r:${n}`];
      const error = h[`e:${n}`];
      const task = records.get(`${queue}\n${taskId}`);
      const input = JSON.parse(h[`in:${n}`] ?? '{}') as { type?: string };
      return {
        name: n,
        queue,
        taskId,
        type: input.type ?? '',
        dependsOn: JSON.parse(h[`deps:${n}`] ?? '[]') as string[],
        status,
        ...(result !== undefined ? { result: JSON.parse(result) as JsonValue } : {}),
        ...(error !== undefined ? { error } : {}),
        ...(task !== undefined ? { task } : {}),
      };
    });
    return { ...decodeSummary(h), steps };
  }

  /**
   * Cancels a flow that has not ended: its steps not started end Cancelled
   * at once, its queued ones are cancelled, its running ones are asked to
   * stop (as Queue.cancel does); the flow is FlowCancelled once none runs.
   * Returns the flow's status after the call, or undefined for an unknown flow.
   */
  async cancel(id: string, options: { reason?: string } = {}): Promise<FlowStatus | undefined> {
    assertFlowName('a flow id', id);
    const redis = await this.redis();
    await redis.zadd(this.fk.unsettled, Date.now() + SETTLE_MS, id);
    try {
      const reply = (await FLOW_SCRIPTS.cancel.run(redis, [this.fk.flow(id)], [this.fk.events, options.reason ?? 'flow cancelled'])) as unknown[];
      if (reply[0] === 'not-found') return undefined;
      if (reply[0] === 'ended') return reply[1] as FlowStatus;
      await performFlowActions(redis, this.keys.prefix, id, decodeFlowActions(reply, 1));
    } finally {
      await redis.zrem(this.fk.unsettled, id);
    }
    return (await redis.hget(this.fk.flow(id), 'state')) as FlowStatus | null ?? undefined;
  }

  /** Flow ids, newest first (`limit` default 50), from the index of flows not yet forgotten. */
  async list(options: { limit?: number; offset?: number } = {}): Promise<string[]> {
    const limit = options.limit ?? 50;
    const offset = options.offset ?? 0;
    return (await this.redis()).zrevrange(this.fk.index, offset, offset + limit - 1);
  }

  /** Closes the connections this object opened (not a client it was given). */
  close(): Promise<void> {
    return this.closeOwnConnection();
  }
}
