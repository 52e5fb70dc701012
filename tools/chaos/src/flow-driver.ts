import { setTimeout as sleep } from 'node:timers/promises';
import { flowKeys, Flows, FLOW_ENDED, queueKeys, type FlowStatus, type RedisClient } from '@taskq/queue';
import type { StatusRecord } from '@taskq/recorder';
import { readRecords } from './redis-state';
import type { ObservedFlow } from './flow-checks';
import type { PlannedFlow } from './flow-plan';

/** How often a flow is added, ms: 60 flows over the first 18 s, while workers are killed and Redis restarts. */
export const FLOW_ADD_EVERY_MS = 300;
/** Wait after a failed add (Redis restarting) before adding the same id again. */
const RETRY_ADD_MS = 200;
const POLL_MS = 250;

/**
 * Adds the planned flows one every FLOW_ADD_EVERY_MS, as a client would: an
 * add that fails (Redis restarting) is tried again with the same flow id,
 * which is idempotent. Tracks which flows ended.
 */
export class FlowDriver {
  private added = 0;
  private readonly ended = new Set<string>();
  private readonly flows: Flows;
  /** Adds retried after an error. */
  retriedAdds = 0;
  private stopped = false;

  constructor(
    private readonly redis: RedisClient,
    queue: string,
    private readonly plan: readonly PlannedFlow[],
    private readonly signal: AbortSignal,
  ) {
    this.flows = new Flows({ queue, connection: redis });
  }

  get addedCount(): number {
    return this.added;
  }

  get endedCount(): number {
    return this.ended.size;
  }

  /** Adds every flow, spread over time from `startAt`; gives up at `deadline` (the run's limit). */
  async addAll(startAt: number, deadline: number): Promise<void> {
    for (const [i, flow] of this.plan.entries()) {
      const due = startAt + i * FLOW_ADD_EVERY_MS;
      if (due > Date.now()) await sleep(due - Date.now(), undefined, { signal: this.signal });
      for (;;) {
        try {
          await this.flows.add(flow.spec, { id: flow.id, policy: flow.policy });
          break;
        } catch (err) {
          if (this.signal.aborted || Date.now() > deadline) throw err;
          this.retriedAdds++;
          await sleep(RETRY_ADD_MS, undefined, { signal: this.signal });
        }
      }
      this.added++;
    }
  }

  /** Resolves once every flow was added and ended (FlowDone, FlowFailed, FlowCancelled), or at `deadline`. */
  async untilAllEnded(adding: Promise<void>, deadline: number): Promise<void> {
    let addsOver = false;
    void adding.then(
      () => (addsOver = true),
      () => (addsOver = true),
    );
    const fk = flowKeys();
    while (Date.now() < deadline && !this.signal.aborted && !this.stopped) {
      const open = this.plan.slice(0, this.added).filter((f) => !this.ended.has(f.id));
      if (open.length > 0) {
        // one HGET per flow, sent together (a pipeline would need every flow's key on one node of a cluster);
        // one that fails (Redis restarting) is looked at again at the next poll
        const states = await Promise.allSettled(open.map((f) => this.redis.hget(fk.flow(f.id), 'state')));
        states.forEach((state, j) => {
          if (state.status === 'fulfilled' && FLOW_ENDED.has(state.value as FlowStatus)) this.ended.add(open[j].id);
        });
      }
      if (addsOver && this.ended.size === this.plan.length) return;
      await sleep(POLL_MS);
    }
  }

  /** Each flow's state as flows.get reads it. */
  async states(): Promise<Map<string, ObservedFlow | undefined>> {
    const out = new Map<string, ObservedFlow | undefined>();
    for (const f of this.plan) {
      const s = await this.flows.get(f.id);
      out.set(f.id, s === undefined ? undefined : { status: s.status, ...(s.endedAt !== undefined ? { endedAt: s.endedAt } : {}), steps: s.steps });
    }
    return out;
  }

  /** Ends the polling of untilAllEnded. */
  async close(): Promise<void> {
    this.stopped = true;
    await this.flows.close();
  }
}

/** The status record and stored result of every step's task, from its queue's hashes. */
export async function readStepTasks(
  redis: RedisClient,
  plan: readonly PlannedFlow[],
): Promise<{ records: Map<string, StatusRecord | undefined>; results: Map<string, unknown> }> {
  const records = new Map<string, StatusRecord | undefined>();
  const results = new Map<string, unknown>();
  const byQueue = new Map<string, string[]>();
  for (const f of plan) {
    for (const s of f.steps) {
      const ids = byQueue.get(s.queue) ?? [];
      ids.push(s.taskId);
      byQueue.set(s.queue, ids);
    }
  }
  for (const [queue, ids] of byQueue) {
    const k = queueKeys(queue);
    const [recorded, stored] = await Promise.all([readRecords(redis, k, ids), redis.hmget(k.results, ...ids)]);
    for (const [id, record] of recorded) records.set(id, record);
    ids.forEach((id, j) => {
      const result = stored[j];
      if (typeof result === 'string') {
        try {
          results.set(id, JSON.parse(result) as unknown);
        } catch {
          results.set(id, result);
        }
      }
    });
  }
  return { records, results };
}
