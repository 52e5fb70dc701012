import type { Cluster, Redis } from 'ioredis';
import { inject, injectable } from 'tsyringe';
import {
  decodeStatusRecord,
  isFinalStatus,
  keysOf,
  TOKENS,
  type QueueConfig,
  type QueueKeys,
  type StatusRecord,
  type TaskStatus,
} from '@taskq/recorder';
import { SCRIPTS } from './lua-script';
import { decodeTask, encodeTaskTail, taskFromInput, validateInput, type JsonValue, type Task, type TaskInput } from './task';
import type { CancelResult } from './cancel-result';
import type { AttemptRecord } from './consumer';

/** Tasks per enqueue script call; bounds the size of one Redis command. */
const ENQUEUE_CHUNK = 1000;
/** Dead tasks requeued per script call by requeueAllDead. */
const REQUEUE_CHUNK = 1000;

/** A dead task as kept in the dead-letter list. */
export interface DeadLetter {
  readonly task: Task | undefined;
  readonly status: StatusRecord | undefined;
  /** Every failed attempt: error message, trimmed stack, worker, time. */
  readonly history: AttemptRecord[];
}

/**
 * The producer side of a queue: enqueue, cancel, inspect, dead letters.
 * Every change is recorded and published in the same script that makes it.
 */
@injectable()
export class Queue {
  readonly keys: QueueKeys;

  constructor(
    @inject(TOKENS.Redis) private readonly redis: Redis | Cluster,
    @inject(TOKENS.QueueConfig) config: QueueConfig,
  ) {
    this.keys = keysOf(config);
  }

  get name(): string {
    return this.keys.queue;
  }

  /** Enqueues one task; returns it. An id that exists already returns the existing task. */
  async enqueue<P extends JsonValue>(input: TaskInput<P>): Promise<Task<P>> {
    const [task] = await this.enqueueMany([input]);
    return task as Task<P>;
  }

  /**
   * Enqueues many tasks, 1000 per script call, all calls pipelined. Every
   * input is validated before anything is written (InvalidTaskError names the
   * problem). Ids that exist already are left as they are and their stored
   * task is returned. Returns the tasks in input order. If it rejects (Redis
   * unreachable), some chunks may be enqueued and others not: with given ids,
   * call it again (enqueue is idempotent per id); generated ids of the chunks
   * that made it are not known to the caller, so give ids when a retry must
   * not duplicate tasks.
   */
  async enqueueMany<P extends JsonValue>(inputs: readonly TaskInput<P>[]): Promise<Task<P>[]> {
    // per task: id ('' = generate), encoded tail, due; validated before anything is sent
    const ids: string[] = [];
    const tails: string[] = [];
    const dues: string[] = [];
    inputs.forEach((input, i) => {
      dues.push(validateInput(input));
      ids.push(input.id ?? '');
      tails.push(encodeTaskTail(input, input.id ?? `#${i} (no id yet)`));
    });
    const k = this.keys;
    const keys = [k.ready, k.tasks, k.status, k.seq, k.delayed, k.ids];
    /** Whether every task of the chunk gets a generated id and is due now: then only the tails are sent. */
    const tailsOnly = (from: number, to: number): boolean => {
      for (let i = from; i < to; i++) if (ids[i] !== '' || dues[i] !== '0') return false;
      return true;
    };
    const chunk = (from: number): Promise<unknown> => {
      const to = Math.min(inputs.length, from + ENQUEUE_CHUNK);
      if (tailsOnly(from, to)) return SCRIPTS.enqueue.run(this.redis, keys, [k.events, k.wake, '*', ...tails.slice(from, to)]);
      const args: string[] = [k.events, k.wake, 't'];
      for (let i = from; i < to; i++) args.push(ids[i] as string, tails[i] as string, dues[i] as string);
      return SCRIPTS.enqueue.run(this.redis, keys, args);
    };
    // The first chunk alone (it loads the script if the server does not have
    // it yet), then every other chunk at once: one connection keeps them in
    // order, and Redis works on one while this process sends the next.
    const replies: unknown[] = inputs.length > 0 ? [await chunk(0)] : [];
    const rest: Promise<unknown>[] = [];
    for (let i = ENQUEUE_CHUNK; i < inputs.length; i += ENQUEUE_CHUNK) rest.push(chunk(i));
    replies.push(...(await Promise.all(rest)));
    const tasks: Task<P>[] = [];
    const existing: number[] = [];
    replies.forEach((raw, c) => {
      const reply = raw as unknown[];
      const now = Number(reply[0]);
      const first = c * ENQUEUE_CHUNK;
      const count = Math.min(ENQUEUE_CHUNK, inputs.length - first);
      if (reply[1] === 'r' || reply[1] === 'l') {
        // tails only, every task new: [enqueue time, 'r', first id] (consecutive ids) or [enqueue time, 'l', ids...]
        const firstId = Number(reply[2]);
        for (let j = 0; j < count; j++) {
          const id = reply[1] === 'r' ? String(firstId + j) : String(reply[2 + j]);
          tasks.push(taskFromInput(inputs[first + j] as TaskInput<P>, id, now));
        }
        return;
      }
      // [enqueue time, one flag per task, generated ids...]
      let generated = 1 + count;
      for (let j = 0; j < count; j++) {
        const input = inputs[first + j] as TaskInput<P>;
        const id = input.id ?? String(reply[generated++]);
        if (Number(reply[1 + j]) === 0) existing.push(tasks.length);
        tasks.push(taskFromInput(input, id, now));
      }
    });
    if (existing.length > 0) {
      const stored = await this.getTasks(existing.map((i) => (tasks[i] as Task<P>).id));
      for (const i of existing) {
        const found = stored.get((tasks[i] as Task<P>).id);
        if (found) tasks[i] = found as Task<P>;
      }
    }
    return tasks;
  }

  /** The stored tasks of these ids (absent: unknown, or forgotten by retention). */
  async getTasks(ids: readonly string[]): Promise<Map<string, Task>> {
    const out = new Map<string, Task>();
    if (ids.length === 0) return out;
    const raws = await this.redis.hmget(this.keys.tasks, ...ids);
    ids.forEach((id, i) => {
      const raw = raws[i];
      if (typeof raw === 'string') {
        try {
          out.set(id, decodeTask(id, raw));
        } catch {
          // a malformed stored task is reported by the worker that fetches it
        }
      }
    });
    return out;
  }

  /**
   * Cancels a task that has not finished. Queued, Delayed or Retrying: it is
   * removed and recorded Cancelled at once. InProgress: the worker holding it,
   * wherever it runs, is told (control channel, and its next heartbeat); its
   * handler's AbortSignal fires and it records Cancelled. This call waits up
   * to `waitMs` (default 5000) for that, then reports `running`.
   */
  async cancel(taskId: string, options: { reason?: string; waitMs?: number } = {}): Promise<CancelResult> {
    const k = this.keys;
    const reply = (await SCRIPTS.cancel.run(
      this.redis,
      [k.ready, k.delayed, k.status, k.seq, k.cancels, k.finished, k.attempts, k.tasks],
      [k.events, k.control, taskId, options.reason ?? 'cancelled'],
    )) as [string, string];
    const [outcome, status] = reply;
    if (outcome === 'not-found') return { id: taskId, outcome, status: undefined, cancelled: false };
    if (outcome === 'cancelled') return { id: taskId, outcome, status: 'Cancelled', cancelled: true };
    if (outcome === 'final') return { id: taskId, outcome, status: status as TaskStatus, cancelled: false };
    // requested: wait for the holder to confirm (or for the task to finish anyway)
    const deadline = Date.now() + (options.waitMs ?? 5000);
    for (;;) {
      const raw = await this.redis.hget(k.status, taskId);
      const rec = raw ? decodeStatusRecord(raw) : undefined;
      if (rec && isFinalStatus(rec.status)) {
        const cancelled = rec.status === 'Cancelled';
        return { id: taskId, outcome: cancelled ? 'cancelled' : 'final', status: rec.status, cancelled };
      }
      if (Date.now() >= deadline) return { id: taskId, outcome: 'running', status: rec?.status, cancelled: false };
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Number of tasks waiting in the ready list. */
  async readyCount(): Promise<number> {
    return this.redis.llen(this.keys.ready);
  }

  /** Number of Delayed and Retrying tasks. */
  async delayedCount(): Promise<number> {
    return this.redis.zcard(this.keys.delayed);
  }

  /** Ids of rejected (Failed) tasks, newest first. */
  async rejectedIds(start = 0, stop = -1): Promise<string[]> {
    return this.redis.lrange(this.keys.rejected, start, stop);
  }

  /** Ids in the dead-letter list, newest first. */
  async deadIds(start = 0, stop = -1): Promise<string[]> {
    return this.redis.lrange(this.keys.dead, start, stop);
  }

  /** A task's failed attempts, oldest first. */
  async history(taskId: string): Promise<AttemptRecord[]> {
    const raw = await this.redis.hget(this.keys.history, taskId);
    return raw ? (JSON.parse(raw) as AttemptRecord[]) : [];
  }

  /** Everything kept about a dead task: the task, its status record (last error) and its attempt history. */
  async deadLetter(taskId: string): Promise<DeadLetter> {
    const [task, rawStatus, history] = await Promise.all([
      this.getTasks([taskId]),
      this.redis.hget(this.keys.status, taskId),
      this.history(taskId),
    ]);
    return { task: task.get(taskId), status: rawStatus ? decodeStatusRecord(rawStatus) : undefined, history };
  }

  /** Moves dead tasks back to the queue (attempts start over). Returns the ids requeued. */
  async requeueDead(taskIds: readonly string[]): Promise<string[]> {
    if (taskIds.length === 0) return [];
    return this.runRequeue(['', 0, ...taskIds]);
  }

  /** Moves every dead task back to the queue. Returns how many. */
  async requeueAllDead(): Promise<number> {
    let total = 0;
    for (;;) {
      const ids = await this.runRequeue(['*', REQUEUE_CHUNK]);
      total += ids.length;
      if (ids.length < REQUEUE_CHUNK && (await this.redis.llen(this.keys.dead)) === 0) return total;
      if (ids.length === 0) return total;
    }
  }

  private async runRequeue(args: (string | number)[]): Promise<string[]> {
    const k = this.keys;
    const ids = await SCRIPTS.requeueDead.run(
      this.redis,
      [k.dead, k.ready, k.attempts, k.status, k.seq, k.tasks, k.recoveries],
      [k.events, k.wake, ...args],
    );
    return (ids as unknown[]).map(String);
  }

  /** Registered consumers and their last heartbeat (Redis server time, ms). */
  async consumers(): Promise<Map<string, number>> {
    const flat = await this.redis.zrange(this.keys.consumers, 0, -1, 'WITHSCORES');
    const out = new Map<string, number>();
    for (let i = 0; i < flat.length; i += 2) out.set(flat[i] as string, Number(flat[i + 1]));
    return out;
  }

  /** Task ids a consumer holds in its processing list. */
  async processingIds(consumerId: string): Promise<string[]> {
    return this.redis.lrange(this.keys.processing(consumerId), 0, -1);
  }
}
