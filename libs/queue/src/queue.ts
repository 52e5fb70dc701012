import {
  decodeStatusRecord,
  isFinalStatus,
  StatusRecorder,
  type StatusRecord,
  type TaskStatus,
} from '@taskq/recorder';
import { SCRIPTS } from './lua-script';
import { scriptKeys } from './script-keys';
import type { QueueClientOptions } from './options';
import { QueueClient } from './queue-client';
import type { RedisClient } from './redis-handle';
import {
  decodeTask,
  DEFAULT_PRIORITY,
  encodeTaskTail,
  taskFromInput,
  validateInput,
  type DefaultTasks, type TaskTypes,
  type EnqueueOptions,
  type JsonValue,
  type Task,
  type TaskInput,
  type TaskInputOf,
  type PayloadOf,
  type TypeOf,
} from './task';
import type { CancelResult } from './cancel-result';
import type { AttemptRecord } from './consumer';
import { EpochWatch, readGeneration, type DataLoss } from './epoch';
import { decodeQueueEvent, type QueueEvent } from './queue-event';
import { listSchedules, removeSchedule, setSchedule, timeMs, type Schedule, type ScheduleSpec } from './schedule';
import { readLimits, removeLimit, setLimit, type Limit, type Limits } from './limits';
import { decodeProgress, type TaskProgress } from './progress';
import { decodeResult } from './result';
import { readTaskPage, type ListableStatus, type ListOptions, type TaskPage } from './list';
import { moveFlowNotices } from './flow/flow-engine';
import { linkOf, resolveReplication, waitForReplicas, type ReplicationOptions } from './replication';
import { NotReplicatedError } from './errors/not-replicated-error';

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

/** Options of a Queue: which queue and how to reach Redis (see QueueClientOptions). */
export interface QueueOptions extends QueueClientOptions {
  /**
   * After every enqueue, wait until this many replicas have the tasks (Redis's
   * WAIT), else reject with NotReplicatedError (the tasks stay queued on the
   * master). With Sentinel or a Cluster with replicas, a failover loses the
   * writes no replica had yet; this narrows that to writes not yet confirmed.
   * Default off.
   */
  readonly waitForReplicas?: ReplicationOptions;
}

/**
 * The producer side of a queue: enqueue, read statuses, cancel, inspect, dead
 * letters. Every change is recorded and published in the same script that
 * makes it.
 *
 * `T` maps task types to payload types (`Queue<{ 'send-email': { to: string } }>`):
 * `enqueue` then accepts only those types, each with its payload.
 *
 * ```ts
 * const queue = new Queue<Tasks>({ queue: 'emails', connection: 'redis://127.0.0.1:6379' });
 * const task = await queue.enqueue('send-email', { to: 'a@example.com' });
 * await queue.close();
 * ```
 */
export class Queue<T extends TaskTypes = DefaultTasks> extends QueueClient {
  /** The queue's data generation as this Queue saw it (its enqueues' epochs, the seqs of records it read). */
  private readonly watch: EpochWatch;
  /** A loss an enqueue found, not yet returned by checkData(). */
  private unreported: DataLoss | undefined;
  /** waitForReplicas, checked. */
  private readonly replication: Required<ReplicationOptions> | undefined;

  // no default value: the constructor's length stays 1, so a container cannot build it without its options
  constructor(options?: QueueOptions) {
    super(options ?? {}, 'taskq-queue');
    this.watch = new EpochWatch(this.keys.queue);
    this.replication = resolveReplication(options?.waitForReplicas);
  }

  /**
   * The queue's epoch as of this Queue's last enqueue (see QueueKeys.epoch):
   * undefined before the first one.
   */
  get epoch(): string | undefined {
    return this.watch.current;
  }

  /**
   * Whether Redis lost the queue's data since this Queue enqueued into it:
   * the queue's epoch changed (a restart without persistence, a flush, a
   * failover to a replica without the data) or its seq counter went back
   * below a record this Queue read (a restart from an older snapshot). Tasks
   * enqueued before are then unknown to Redis, or in an older state. Returns
   * each loss once; undefined when nothing was lost (or nothing enqueued yet).
   */
  async checkData(): Promise<DataLoss | undefined> {
    const generation = await readGeneration(await this.redis(), this.keys);
    const found = this.unreported;
    this.unreported = undefined;
    return this.watch.check(generation) ?? found;
  }

  private sawEpoch(epoch: string): void {
    const loss = this.watch.see(epoch);
    if (loss === undefined) return;
    this.unreported = loss;
    this.logger.error({ queue: this.keys.queue, before: loss.before, after: loss.after }, `${loss.reason}; the tasks enqueued before are lost`);
  }

  get name(): string {
    return this.keys.queue;
  }

  /** Closes the connections this queue opened (not a client it was given). */
  close(): Promise<void> {
    return this.closeOwnConnection();
  }

  private redis(): RedisClient | Promise<RedisClient> {
    return this.connection.client();
  }

  /**
   * Enqueues one task and returns it: `enqueue(type, payload, options?)` or
   * `enqueue({ type, payload, id?, delayMs?, … })`. An id that exists already
   * returns the existing task (idempotent enqueue). Throws InvalidTaskError
   * (nothing written) for a bad input.
   */
  enqueue<K extends TypeOf<T>>(type: K, payload: PayloadOf<T, K>, options?: EnqueueOptions): Promise<Task<T[K]>>;
  enqueue<K extends TypeOf<T>>(input: TaskInputOf<T, K>): Promise<Task<T[K]>>;
  async enqueue(typeOrInput: string | TaskInput, payload?: unknown, options: EnqueueOptions = {}): Promise<Task> {
    const input: TaskInput =
      typeof typeOrInput === 'string' ? { ...options, type: typeOrInput, payload: payload as JsonValue } : typeOrInput;
    const [task] = await this.enqueueMany([input as TaskInputOf<T>]);
    return task;
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
  async enqueueMany<K extends TypeOf<T>>(inputs: readonly TaskInputOf<T, K>[]): Promise<Task<T[K]>[]> {
    type P = T[K];
    // per task: id ('' = generate), encoded tail, due; validated before anything is sent
    const ids: string[] = [];
    const tails: string[] = [];
    const dues: string[] = [];
    /** Per task: its priority as enqueue.lua takes it ('' for the default); empty while no task has one. */
    const levels: string[] = [];
    (inputs as readonly TaskInput[]).forEach((input, i) => {
      dues.push(validateInput(input));
      if (input.priority !== undefined && input.priority !== DEFAULT_PRIORITY) {
        while (levels.length < i) levels.push('');
        levels.push(String(input.priority));
      } else if (levels.length > 0) levels.push('');
      ids.push(input.id ?? '');
      tails.push(encodeTaskTail(input, input.id ?? `#${i} (no id yet)`));
    });
    const k = this.keys;
    const keys = scriptKeys('enqueue', k);
    const redis = await this.redis();
    const link = this.replication === undefined ? undefined : linkOf(redis);
    /** Whether every task of the chunk gets a generated id and is due now: then only the tails are sent. */
    const tailsOnly = (from: number, to: number): boolean => {
      for (let i = from; i < to; i++) if (ids[i] !== '' || dues[i] !== '0') return false;
      return true;
    };
    /** Whether a task of the chunk has a priority other than the default: then quadruples are sent. */
    const prioritized = (from: number, to: number): boolean => {
      for (let i = from; i < to && i < levels.length; i++) if (levels[i] !== '') return true;
      return false;
    };
    const chunk = (from: number): Promise<unknown> => {
      const to = Math.min(inputs.length, from + ENQUEUE_CHUNK);
      if (prioritized(from, to)) {
        const args: string[] = [k.events, k.wake, 'p'];
        for (let i = from; i < to; i++) args.push(ids[i], tails[i], dues[i], levels[i] ?? '');
        return SCRIPTS.enqueue.run(redis, keys, args);
      }
      if (tailsOnly(from, to)) return SCRIPTS.enqueue.run(redis, keys, [k.events, k.wake, '*', ...tails.slice(from, to)]);
      const args: string[] = [k.events, k.wake, 't'];
      for (let i = from; i < to; i++) args.push(ids[i], tails[i], dues[i]);
      return SCRIPTS.enqueue.run(redis, keys, args);
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
      this.sawEpoch(String(reply[1]));
      const first = c * ENQUEUE_CHUNK;
      const count = Math.min(ENQUEUE_CHUNK, inputs.length - first);
      if (reply[2] === 'r' || reply[2] === 'l') {
        // tails only, every task new: [enqueue time, epoch, 'r', first id] (consecutive ids) or [enqueue time, epoch, 'l', ids...]
        const firstId = Number(reply[3]);
        for (let j = 0; j < count; j++) {
          const id = reply[2] === 'r' ? String(firstId + j) : String(reply[3 + j]);
          tasks.push(taskFromInput(inputs[first + j] as TaskInput, id, now) as Task<P>);
        }
        return;
      }
      // [enqueue time, epoch, one flag per task, generated ids...]
      let generated = 2 + count;
      for (let j = 0; j < count; j++) {
        const input = inputs[first + j] as TaskInput;
        const id = input.id ?? String(reply[generated++]);
        if (Number(reply[2 + j]) === 0) existing.push(tasks.length);
        tasks.push(taskFromInput(input, id, now) as Task<P>);
      }
    });
    if (this.replication !== undefined && inputs.length > 0) {
      const { replicas, timeoutMs } = this.replication;
      let confirmed = await waitForReplicas(redis, k.tasks, replicas, timeoutMs);
      // the connection changed between the writes and the WAIT (a failover): its count is of another connection's writes
      if (linkOf(redis) !== link) confirmed = 0;
      if (confirmed < replicas) {
        const sample = tasks.slice(0, 5).map((t) => t.id).join(', ') + (tasks.length > 5 ? ', …' : '');
        throw new NotReplicatedError(`${tasks.length} task(s) of queue ${k.queue} (${sample})`, confirmed, replicas, timeoutMs, tasks.map((t) => t.id));
      }
    }
    if (existing.length > 0) {
      const stored = await this.getTasks(existing.map((i) => tasks[i].id));
      for (const i of existing) {
        const found = stored.get(tasks[i].id);
        if (found) tasks[i] = found as Task<P>;
      }
    }
    return tasks;
  }

  /** The stored tasks of these ids (absent: unknown, or forgotten by retention). */
  async getTasks(ids: readonly string[]): Promise<Map<string, Task>> {
    const out = new Map<string, Task>();
    if (ids.length === 0) return out;
    const raws = await (await this.redis()).hmget(this.keys.tasks, ...ids);
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
   * The current status record of a task (undefined: unknown, or forgotten by
   * retention). A task still where enqueue put it reads as Queued, attempt 0.
   * To wait for a status, use a Monitor (`monitor.waitFor(id)`).
   */
  async status(taskId: string): Promise<StatusRecord | undefined> {
    return new StatusRecorder(await this.redis(), this.keys).get(taskId);
  }

  /** Current status records of many tasks, in the order asked (see status()). */
  async statuses(taskIds: readonly string[]): Promise<Map<string, StatusRecord | undefined>> {
    const records = await new StatusRecorder(await this.redis(), this.keys).getMany(taskIds);
    if (this.watch.current !== undefined) for (const record of records.values()) if (record) this.watch.seeSeq(record.seq);
    return records;
  }

  /**
   * The latest progress a running task's handler reported (`ctx.progress(…)`),
   * or undefined: the task is not running, has reported none in this run, or
   * does not exist. Progress is kept while the task runs only: it goes when
   * the run ends (Done, Retrying, Dead, Failed, Cancelled, or back to Queued).
   * To follow it live, use a Monitor (`monitor.onProgress(…)`).
   */
  async progress(taskId: string): Promise<TaskProgress | undefined> {
    const text = await (await this.redis()).hget(this.keys.progress, taskId);
    return text === null ? undefined : decodeProgress(text);
  }

  /** The latest progress of many tasks, in the order asked (see progress()); one HMGET. */
  async progressMany(taskIds: readonly string[]): Promise<Map<string, TaskProgress | undefined>> {
    const out = new Map<string, TaskProgress | undefined>();
    if (taskIds.length === 0) return out;
    const texts = await (await this.redis()).hmget(this.keys.progress, ...taskIds);
    taskIds.forEach((id, i) => {
      const text = texts[i];
      out.set(id, text === null || text === undefined ? undefined : decodeProgress(text));
    });
    return out;
  }

  /**
   * The value a Done task's handler returned (parsed from its stored JSON),
   * or undefined: the task does not exist, is not Done, its handler returned
   * undefined, or retention forgot it. A result is stored with the Done
   * record, in the same step; it is kept as long as the task's status.
   */
  async result(taskId: string): Promise<JsonValue | undefined> {
    return decodeResult(await (await this.redis()).hget(this.keys.results, taskId));
  }

  /** The results of many tasks, in the order asked (see result()); one HMGET. */
  async results(taskIds: readonly string[]): Promise<Map<string, JsonValue | undefined>> {
    const out = new Map<string, JsonValue | undefined>();
    if (taskIds.length === 0) return out;
    const texts = await (await this.redis()).hmget(this.keys.results, ...taskIds);
    taskIds.forEach((id, i) => out.set(id, decodeResult(texts[i])));
    return out;
  }

  /**
   * Pauses the queue: workers take no task from it until `resume()`;
   * enqueues go on, tasks already running finish (their outcomes are
   * recorded), due delayed tasks wait. Published on the events channel (a
   * Monitor reports it). Returns the pause event; when the queue was paused
   * already, that earlier one, unchanged.
   */
  async pause(reason = ''): Promise<QueueEvent> {
    const k = this.keys;
    const raw = await SCRIPTS.pause.run(await this.redis(), scriptKeys('pause', k), [k.events, reason]);
    return decodeQueueEvent(String(raw)) as QueueEvent;
  }

  /** Resumes a paused queue (idle workers are woken at once). Returns the resume event, or undefined when it was not paused. */
  async resume(): Promise<QueueEvent | undefined> {
    const k = this.keys;
    const raw = await SCRIPTS.resume.run(await this.redis(), scriptKeys('resume', k), [k.events, k.wake]);
    return typeof raw === 'string' ? decodeQueueEvent(raw) : undefined;
  }

  /**
   * Registers a schedule by name: a cron expression (in a time zone) or a
   * fixed interval, and the task each tick enqueues. The janitors (one runs
   * in every worker pool) enqueue each tick's task once, whatever the number
   * of workers (its id is `schedule:<name>:<tick ms>`); a late pass catches
   * up on up to 5 missed ticks, more (no worker ran for a while) make one
   * run. Registering the same spec again
   * (every worker at its start, say) keeps the next tick; another spec under
   * the name replaces it. Throws InvalidScheduleError for a bad spec.
   */
  async schedule(name: string, spec: ScheduleSpec): Promise<Schedule> {
    const redis = await this.redis();
    return setSchedule(redis, this.keys, name, spec, timeMs(await redis.time()));
  }

  /** The registered schedules, soonest tick first. */
  async schedules(): Promise<Schedule[]> {
    return listSchedules(await this.redis(), this.keys);
  }

  /** Removes a schedule; false when there was none of that name. Tasks it enqueued stay. */
  async unschedule(name: string): Promise<boolean> {
    return removeSchedule(await this.redis(), this.keys, name);
  }

  /**
   * Sets a global limit, obeyed by every worker of the queue at once (it is
   * kept in Redis and checked inside the fetch script): of the whole queue,
   * or with `{ type }` of one task type. `concurrency`: at most that many
   * running at once; `rate`: at most `max` starts in any window of
   * `intervalMs`. Replaces the scope's earlier limit. Tasks over a limit
   * stay Queued (a task of a type at its limit is parked: set aside, taken
   * first once its type has room) and idle workers are woken when a slot
   * frees. Tasks already running when a limit is set do not count against
   * it. Throws InvalidLimitError for a bad limit or type name.
   */
  async setLimit(limit: Limit, options: { type?: TypeOf<T> } = {}): Promise<void> {
    await setLimit(await this.redis(), this.keys, limit, options.type);
  }

  /**
   * Removes the limit of the queue, or with `{ type }` of that type (its
   * parked tasks go back to the ready tasks, ahead of the others of their
   * priority). False when there was none.
   */
  async removeLimit(options: { type?: TypeOf<T> } = {}): Promise<boolean> {
    return removeLimit(await this.redis(), this.keys, options.type);
  }

  /** The queue's limits: its own (`queue`) and per type. */
  async limits(): Promise<Limits> {
    return readLimits(await this.redis(), this.keys);
  }

  /** The pause event while the queue is paused, else undefined. */
  async paused(): Promise<QueueEvent | undefined> {
    const raw = await (await this.redis()).get(this.keys.paused);
    return raw === null ? undefined : decodeQueueEvent(raw);
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
    const redis = await this.redis();
    const reply = (await SCRIPTS.cancel.run(redis, scriptKeys('cancel', k), [
      k.events,
      k.control,
      taskId,
      options.reason ?? 'cancelled',
    ])) as [string, string];
    const [outcome, status] = reply;
    // a cancelled flow step left a notice: carried into its flow now (the janitor would at its next pass)
    if (outcome === 'cancelled') await moveFlowNotices(redis, k, this.logger);
    if (outcome === 'not-found') return { id: taskId, outcome, status: undefined, cancelled: false };
    if (outcome === 'cancelled') return { id: taskId, outcome, status: 'Cancelled', cancelled: true };
    if (outcome === 'final') return { id: taskId, outcome, status: status as TaskStatus, cancelled: false };
    // requested: wait for the holder to confirm (or for the task to finish anyway)
    const deadline = Date.now() + (options.waitMs ?? 5000);
    for (;;) {
      const raw = await redis.hget(k.status, taskId);
      const rec = raw ? decodeStatusRecord(raw) : undefined;
      if (rec && isFinalStatus(rec.status)) {
        const cancelled = rec.status === 'Cancelled';
        return { id: taskId, outcome: cancelled ? 'cancelled' : 'final', status: rec.status, cancelled };
      }
      if (Date.now() >= deadline) return { id: taskId, outcome: 'running', status: rec?.status, cancelled: false };
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Number of ready (Queued) tasks: the ready list, the prioritized ones and those parked by a type's limit. */
  async readyCount(): Promise<number> {
    const redis = await this.redis();
    const [list, prioritized, parked] = await Promise.all([
      redis.llen(this.keys.ready),
      redis.zcard(this.keys.prioritized),
      redis.zcard(this.keys.parked),
    ]);
    return list + prioritized + parked;
  }

  /** Number of Delayed and Retrying tasks. */
  async delayedCount(): Promise<number> {
    return (await this.redis()).zcard(this.keys.delayed);
  }

  /**
   * One page of the tasks of one status, from the structure that holds them,
   * with each task's body and status record:
   * - `Queued` in the order workers take them (the priorities above the
   *   default, the ready list, the priorities below, then the tasks parked by
   *   a type's limit); `InProgress` by consumer id, each consumer's newest
   *   first. Their cursor is an offset into a line that moves as workers take
   *   tasks, so a task may be skipped or shown twice across pages.
   * - `Delayed` and `Retrying` soonest due first; `Done`, `Cancelled`, `Dead`
   *   and `Failed` newest first. Their cursor is the last task read (with its
   *   due time or its record's seq), so the pages are stable: tasks that come
   *   or go meanwhile (enqueued, retried, finished, requeued, trimmed) make
   *   none of the tasks that stayed skipped or shown twice.
   * `limit`: 1 to 500, default 50. `cursor`: the `nextCursor` of the page
   * before (an opaque string; absent for the first page). A page can hold
   * fewer tasks than the limit and still have a `nextCursor`; none means the
   * list ended. Throws InvalidListQueryError (`field`: status, limit or
   * cursor) for a bad input, before reading anything.
   */
  async listTasks(status: ListableStatus, options: ListOptions = {}): Promise<TaskPage> {
    return readTaskPage(await this.redis(), this.keys, status, options);
  }

  /** Ids of rejected (Failed) tasks, newest first. */
  async rejectedIds(start = 0, stop = -1): Promise<string[]> {
    return (await this.redis()).lrange(this.keys.rejected, start, stop);
  }

  /** Ids in the dead-letter list, newest first. */
  async deadIds(start = 0, stop = -1): Promise<string[]> {
    return (await this.redis()).lrange(this.keys.dead, start, stop);
  }

  /** A task's failed attempts, oldest first. */
  async history(taskId: string): Promise<AttemptRecord[]> {
    const raw = await (await this.redis()).hget(this.keys.history, taskId);
    return raw ? (JSON.parse(raw) as AttemptRecord[]) : [];
  }

  /** Everything kept about a dead task: the task, its status record (last error) and its attempt history. */
  async deadLetter(taskId: string): Promise<DeadLetter> {
    const redis = await this.redis();
    const [task, rawStatus, history] = await Promise.all([
      this.getTasks([taskId]),
      redis.hget(this.keys.status, taskId),
      this.history(taskId),
    ]);
    return { task: task.get(taskId), status: rawStatus ? decodeStatusRecord(rawStatus) : undefined, history };
  }

  /** Moves dead tasks back to the queue (attempts start over). Returns the ids requeued. */
  async requeueDead(taskIds: readonly string[]): Promise<string[]> {
    if (taskIds.length === 0) return [];
    return this.runRequeue(['', 0, ...taskIds]);
  }

  /**
   * Moves every dead task back to the queue. Returns how many. It stops at
   * the first call that found the list empty before its chunk was full: a
   * requeued task that a worker runs and dead-letters again meanwhile stays
   * in the list (it is not requeued, nor counted, twice).
   */
  async requeueAllDead(): Promise<number> {
    let total = 0;
    for (;;) {
      const ids = await this.runRequeue(['*', REQUEUE_CHUNK]);
      total += ids.length;
      if (ids.length < REQUEUE_CHUNK) return total;
    }
  }

  private async runRequeue(args: (string | number)[]): Promise<string[]> {
    const k = this.keys;
    const ids = await SCRIPTS.requeueDead.run(await this.redis(), scriptKeys('requeueDead', k), [k.events, k.wake, ...args]);
    return (ids as unknown[]).map(String);
  }

  /**
   * Moves rejected (Failed) tasks back to the queue, attempts starting over
   * (say, once a handler for their type is deployed). Ids not in the rejected
   * list are left alone. Returns the ids requeued.
   */
  async requeueFailed(taskIds: readonly string[]): Promise<string[]> {
    if (taskIds.length === 0) return [];
    const k = this.keys;
    const ids = await SCRIPTS.requeueFailed.run(await this.redis(), scriptKeys('requeueFailed', k), [k.events, k.wake, ...taskIds]);
    return (ids as unknown[]).map(String);
  }

  /** Registered consumers and their last heartbeat (Redis server time, ms). */
  async consumers(): Promise<Map<string, number>> {
    const flat = await (await this.redis()).zrange(this.keys.consumers, 0, -1, 'WITHSCORES');
    const out = new Map<string, number>();
    for (let i = 0; i < flat.length; i += 2) out.set(flat[i], Number(flat[i + 1]));
    return out;
  }

  /** Task ids a consumer holds in its processing list. */
  async processingIds(consumerId: string): Promise<string[]> {
    return (await this.redis()).lrange(this.keys.processing(consumerId), 0, -1);
  }
}
