import type { TaskStatus } from '@taskq/recorder';
import { retentionOf } from './config';
import { SCRIPTS } from './lua-script';
import { scriptKeys } from './script-keys';
import { decodeFetchReply, type FetchResult } from './fetched-task';
import { isPlain, newConsumerId } from './ids';
import type { RetentionClientOptions } from './options';
import { QueueClient } from './queue-client';
import type { RedisClient } from './redis-handle';
import { recoverConsumer } from './recover';
import { assertRedisVersion } from './redis-version';
import { EpochWatch, readGeneration, type DataLoss } from './epoch';
import { moveFlowNotices } from './flow/flow-engine';

export interface ConsumerOptions extends RetentionClientOptions {
  /** Consumer id; one processing list per consumer. Default: `<host>-<pid>-<random>`. */
  readonly id?: string;
}

/** A hand-off pool's claim of a task handed to it (see Consumer.exchange). */
export interface ClaimItem {
  readonly id: string;
  /** The sub-worker running it (recorded in its InProgress record). */
  readonly worker: string;
  /** ms since its handler started (its InProgress record's time is that long before the claim). */
  readonly ageMs: number;
}

/** Options of Consumer.exchange. */
export interface ExchangeOptions {
  /** The pool has idle sub-workers besides those named (see Consumer.exchange). */
  readonly spare?: boolean;
  /** A hand-off pool: its idle sub-workers besides those named, and its claims. */
  readonly handOff?: { readonly spare: number; readonly claims: readonly ClaimItem[] };
}

/** A finished task to acknowledge: its id, the worker that ran it and the fetch's fencing token. */
export interface AckItem {
  readonly id: string;
  readonly worker: string;
  readonly token: string;
  /**
   * The JSON text of its handler's return value, stored with the Done record
   * (see QueueKeys.results); undefined: none (no Redis work). The caller
   * checks it (see encodeResult); it is stored as given.
   */
  readonly result?: string | undefined;
}

/** A running task's progress to store and publish: its id, the fetch's fencing token, and the encoded progress (see encodeProgress). */
export interface ProgressItem {
  readonly id: string;
  readonly token: string;
  readonly body: string;
}

/** Most progress updates one script call carries (3 arguments each). */
const MAX_PROGRESS_BATCH = 1000;

/** How a failed attempt ends (see fail.lua). */
export type FailMode = 'retry' | 'dead' | 'reject' | 'cancel';

export interface FailInput {
  readonly mode: FailMode;
  readonly reason: string;
  /** For `retry`: ms until the next attempt (measured on the Redis server's clock). */
  readonly delayMs?: number;
  /** Appended to the task's attempt history (error message, trimmed stack). */
  readonly history?: AttemptRecord;
}

/** One failed attempt in a task's history. */
export interface AttemptRecord {
  readonly attempt: number;
  /** ms since the epoch */
  readonly at: number;
  readonly worker: string;
  readonly error: string;
  /** First lines of the stack, when the error had one. */
  readonly stack?: string;
}

/** What a heartbeat learned. */
export interface Heartbeat {
  /** False when the janitor had presumed this consumer dead, or Redis lost the queue's data (it registered again). */
  readonly alive: boolean;
  /** Tasks this consumer holds whose cancel was requested. */
  readonly cancelRequested: string[];
  /** The queue's epoch (see QueueKeys.epoch). */
  readonly epoch?: string;
}

/**
 * The worker side of a queue for one consumer (one process): registration
 * and heartbeats, reliable fetch into its own processing list, ack, fail and
 * release by task id and fencing token. Each call is one Lua script, one
 * round trip.
 */
/** Which unclaimed hand-offs `Consumer.reconcile` may return: those named as settled, or those at least graceMs old. */
export type ReconcileHandOffs = { readonly settled: readonly string[] } | { readonly graceMs: number };

export class Consumer extends QueueClient {
  readonly id: string;
  private readonly fetchKeys: string[];
  private readonly deadMax: number;
  private readonly rejectedMax: number;
  private versionChecked = false;
  /** The queue's data generation as this consumer saw it. */
  private readonly watch: EpochWatch;
  private readonly lossListeners = new Set<(loss: DataLoss) => void>();
  /** Whether a task this consumer fetched was a flow step: then its fails that end a task look for flow notices. */
  private servesFlowSteps = false;
  /** The background flow mover, while one runs (see moveFlowNoticesSoon). */
  private flowMover: Promise<void> | undefined;
  private flowMoveAgain = false;

  // no default value: the constructor's length stays 1, so a container cannot build it without its options
  constructor(options?: ConsumerOptions) {
    super(options ?? {}, 'taskq-consumer');
    options ??= {};
    const retention = retentionOf(options);
    this.deadMax = retention.deadMax;
    this.rejectedMax = retention.rejectedMax;
    this.id = options.id ?? newConsumerId();
    this.fetchKeys = scriptKeys('fetch', this.keys, this.id);
    this.watch = new EpochWatch(this.keys.queue);
  }

  /**
   * The queue's epoch this consumer works in (see QueueKeys.epoch), learned
   * at registration; it changes when Redis lost the queue's data. A fetched
   * task carries the epoch it was fetched in.
   */
  get epoch(): string | undefined {
    return this.watch.current;
  }

  /**
   * Calls `listener` when this consumer finds that Redis lost the queue's
   * data (a heartbeat, registration or refused ack shows another epoch, or a
   * seq counter gone back): the tasks it held then are unknown to Redis and
   * their outcomes cannot be recorded. Without a listener the consumer logs
   * the loss itself. Returns a function that removes the listener.
   */
  onDataLost(listener: (loss: DataLoss) => void): () => void {
    this.lossListeners.add(listener);
    return () => this.lossListeners.delete(listener);
  }

  /**
   * Notes the epoch a beat or registration (in this process or a heartbeat
   * thread) reported; returns true when it shows a loss (reported to the
   * listeners, or logged).
   */
  noteEpoch(epoch: string | undefined): boolean {
    return this.reportLoss(this.watch.see(epoch));
  }

  private reportLoss(loss: DataLoss | undefined): boolean {
    if (loss === undefined) return false;
    if (this.lossListeners.size === 0) {
      this.logger.error(
        { consumer: this.id, queue: loss.queue, before: loss.before, after: loss.after },
        `${loss.reason}; the tasks consumer ${this.id} held are unknown to Redis now, their outcomes cannot be recorded`,
      );
    }
    for (const listener of this.lossListeners) listener(loss);
    return true;
  }

  /**
   * After Redis refused an ack or fail: whether it refused because it lost the
   * queue's data (another epoch, or a seq counter below the seq of a refused
   * token, `<seq>:<attempt>`). Reports the loss; false when the refusal is an ordinary one.
   */
  private async refusedForLoss(tokens: readonly string[]): Promise<boolean> {
    for (const token of tokens) this.watch.seeSeq(Number(token.slice(0, token.indexOf(':'))) || 0);
    const generation = await readGeneration(await this.redis(), this.keys);
    return this.reportLoss(this.watch.check(generation));
  }

  /** Closes the connections this consumer opened (not a client or handle it was given). */
  close(): Promise<void> {
    return this.closeOwnConnection();
  }

  private redis(): RedisClient | Promise<RedisClient> {
    return this.connection.current ?? this.connection.client();
  }

  /** Adds this consumer to the registry (with a fresh heartbeat). */
  async register(): Promise<void> {
    if (!this.versionChecked) {
      await assertRedisVersion(await this.redis());
      this.versionChecked = true;
    }
    await this.registerAgain();
  }

  /** Registers; true when the reply showed that Redis lost the queue's data (reported). */
  private async registerAgain(): Promise<boolean> {
    return (await this.beat('1')).lost;
  }

  /**
   * Proves this consumer is alive and collects cancel requests for the tasks
   * it holds. If the janitor had presumed it dead (its tasks went back to
   * the queue), it registers again and reports `alive: false`.
   */
  async heartbeat(): Promise<Heartbeat> {
    const { beat, lost } = await this.beat('0');
    if (beat.alive) return beat;
    await this.register();
    if (!lost) this.logger.warn({ consumer: this.id }, `consumer ${this.id} was presumed dead; its tasks went back to the queue; registered again`);
    return beat;
  }

  /**
   * The heartbeat script call (source, sha, KEYS; ARGV is consumer id and a
   * register flag '0'/'1'), for a heartbeat thread with its own connection.
   * The plain text, on a Cluster too: the heartbeat publishes nothing.
   */
  heartbeatCall(): { source: string; sha: string; keys: string[] } {
    return { source: SCRIPTS.heartbeat.source, sha: SCRIPTS.heartbeat.sha, keys: scriptKeys('heartbeat', this.keys, this.id) };
  }

  /**
   * The fetch script call that carries only claims of handed-off tasks and
   * leaves this consumer's hand-off listing as it is (ARGV[3] `0hr`, see
   * fetch.lua), for a heartbeat thread that sends the claims the main thread
   * holds back (see the worker pool's claim relay): source and sha (the
   * sharded text on a Cluster), KEYS, and the ARGV before the claim block.
   */
  claimCall(): { source: string; sha: string; keys: string[]; args: string[] } {
    const text = SCRIPTS.fetch.textFor(this.connection.current);
    return { source: text.source, sha: text.sha, keys: [...this.fetchKeys], args: [this.keys.events, this.id, '0hr', this.keys.wake, '0', '0', '0'] };
  }

  /** One heartbeat script call; `lost`: its epoch showed that Redis lost the queue's data (reported). */
  private async beat(register: '0' | '1'): Promise<{ beat: Heartbeat; lost: boolean }> {
    const call = this.heartbeatCall();
    const reply = (await SCRIPTS.heartbeat.run(await this.redis(), call.keys, [this.id, register])) as unknown[];
    const epoch = String(reply[1]);
    const lost = this.noteEpoch(epoch);
    return { beat: { alive: Number(reply[0]) === 1, cancelRequested: reply.slice(2).map(String), epoch }, lost };
  }

  /**
   * Promotes due Delayed/Retrying tasks, then moves up to `workers.length`
   * ready tasks into this consumer's processing list, each recorded
   * InProgress for the worker at the same position, with a fresh fencing
   * token. Also tells when the earliest delayed task is due.
   */
  fetch(workers: readonly string[]): Promise<FetchResult> {
    return this.exchange([], workers);
  }

  /**
   * Records the task Done, with `result` (JSON text, see encodeResult) if
   * given. False (nothing written) if this fetch no longer holds it (stale token).
   */
  async ack(taskId: string, worker: string, token: string, result?: string): Promise<boolean> {
    const [ok] = await this.ackMany([{ id: taskId, worker, token, result }]);
    return ok === true;
  }

  /**
   * Records many tasks Done in one round trip; one flag per task, false where
   * that task's ack was refused.
   */
  async ackMany(items: readonly AckItem[]): Promise<boolean[]> {
    if (items.length === 0) return [];
    return (await this.exchange(items, [])).acks;
  }

  /**
   * A worker pool's round trip: acknowledges finished tasks (each Done, or
   * refused on its own), then fetches up to one task per named worker — one
   * script, so a busy pool pays one round trip per batch in each direction.
   * `spare`: the pool has idle sub-workers besides `workers`; if the queue has
   * no ready task for them, the consumer is listed as waiting for work
   * (QueueKeys.waiters), and an enqueue wakes it by name.
   * `handOff` (a pool that takes tasks in its wake messages, see
   * QueueKeys.handOffWaiters): its idle sub-workers besides `workers` (it is
   * listed once per one of them while nothing is ready) and its claims of
   * handed-off tasks, answered in `claims` (token, `c` or `''`; see fetch.lua).
   */
  async exchange(acks: readonly AckItem[], workers: readonly string[], options: ExchangeOptions = {}): Promise<FetchResult> {
    const k = this.keys;
    const keys = this.fetchKeys;
    const handOff = options.handOff;
    const spare = options.spare === true || (handOff !== undefined && handOff.spare > 0) ? '+' : '';
    const mode = handOff ? `${spare}h` : spare;
    let plain = true;
    const args: (string | number)[] = [k.events, this.id, `1${mode}`, k.wake, acks.length, 0];
    // results are rare on a busy queue: nothing is allocated for a batch without one
    let results: (string | number)[] | undefined;
    for (let i = 0; i < acks.length; i++) {
      const a = acks[i];
      args.push(a.id, a.worker, a.token);
      plain &&= isPlain(a.worker) && isPlain(a.id);
      if (a.result !== undefined) (results ??= []).push(i + 1, a.result);
    }
    if (results) {
      args[5] = results.length / 2;
      for (const r of results) args.push(r);
    }
    if (handOff) {
      args.push(handOff.spare, handOff.claims.length);
      for (const c of handOff.claims) {
        args.push(c.id, c.worker, Math.max(0, Math.round(c.ageMs)));
        plain &&= isPlain(c.worker);
      }
    }
    for (const w of workers) {
      args.push(w);
      plain &&= isPlain(w);
    }
    // names that need JSON escaping take the script's slower, escaping path
    if (!plain) args[2] = `0${mode}`;
    const redis = await this.redis();
    let reply = await SCRIPTS.fetch.run(redis, keys, args);
    if (reply === -1) {
      if (!this.versionChecked) await this.register();
      else if (await this.registerAgain()) {
        // Redis lost the queue's data: these acks are of tasks it no longer knows (reported); fetch only
        const again = await this.exchange([], workers, handOff ? { ...options, handOff: { ...handOff, claims: [] } } : options);
        return { ...again, acks: acks.map(() => false), claims: handOff?.claims.map(() => '') };
      } else {
        this.logger.warn({ consumer: this.id }, `consumer ${this.id} was not registered (presumed dead; its tasks went back to the queue); registered again`);
      }
      reply = await SCRIPTS.fetch.run(redis, keys, args);
      if (reply === -1) return { acks: acks.map(() => false), tasks: [], nextDueInMs: undefined, readyLeft: undefined, paused: false, claims: handOff?.claims.map(() => '') };
    }
    const result = decodeFetchReply(reply as unknown[], acks.length, workers, this.watch.current, handOff?.claims.length ?? 0);
    if (result.flowNotices) this.moveFlowNoticesSoon();
    if (!this.servesFlowSteps) this.servesFlowSteps = result.tasks.some((t) => t.task?.flow !== undefined);
    // refusals are rare: nothing is allocated for a batch without one
    let refused: AckItem[] | undefined;
    result.acks.forEach((ok, i) => {
      if (!ok) (refused ??= []).push(acks[i]);
    });
    if (refused && !(await this.refusedForLoss(refused.map((a) => a.token)))) {
      for (const a of refused) this.warnRefused('ack', a.id);
    }
    return result;
  }

  /**
   * Ends a failed attempt: retry later, dead letter, reject or cancelled (a
   * pending cancel request turns retry/dead into Cancelled). Returns the
   * status recorded, or undefined if refused (stale token).
   */
  async fail(taskId: string, worker: string, token: string, input: FailInput): Promise<TaskStatus | undefined> {
    const k = this.keys;
    const reply = await SCRIPTS.fail.run(
      await this.redis(),
      scriptKeys('fail', k, this.id),
      [
        k.events,
        k.wake,
        taskId,
        worker,
        token,
        input.mode,
        input.reason,
        Math.max(0, Math.round(input.delayMs ?? 0)),
        input.history ? JSON.stringify(input.history) : '',
        this.deadMax,
        this.rejectedMax,
      ],
    );
    if (reply !== 0) {
      // a flow step that ended here left a notice in the flow outbox
      if (reply !== 'Retrying' && this.servesFlowSteps) this.moveFlowNoticesSoon();
      return reply as TaskStatus;
    }
    if (!(await this.refusedForLoss([token]))) this.warnRefused(input.mode, taskId);
    return undefined;
  }

  /**
   * Stores and publishes the progress of running tasks (one script call per
   * 1000): each update lands only while its fetch still holds the task
   * (fencing token). One flag per item, false where it was refused.
   */
  async reportProgress(items: readonly ProgressItem[]): Promise<boolean[]> {
    const k = this.keys;
    const keys = scriptKeys('progress', k);
    const flags: boolean[] = [];
    for (let i = 0; i < items.length; i += MAX_PROGRESS_BATCH) {
      const args: string[] = [k.events];
      for (const item of items.slice(i, i + MAX_PROGRESS_BATCH)) args.push(item.id, item.token, item.body);
      const reply = (await SCRIPTS.progress.run(await this.redis(), keys, args)) as unknown[];
      for (const flag of reply) flags.push(Number(flag) === 1);
    }
    return flags;
  }

  /** Gives unfinished tasks back to the front of the ready list (Queued; the attempt does not count). */
  async release(taskIds: readonly string[], reason: string): Promise<number> {
    if (taskIds.length === 0) return 0;
    const k = this.keys;
    const n = await SCRIPTS.release.run(await this.redis(), scriptKeys('release', k, this.id), [k.events, k.wake, reason, ...taskIds]);
    return Number(n);
  }

  /** Returns anything still held to the ready list and leaves the registry. Returns how many tasks. */
  async unregister(reason = `consumer ${this.id} stopped`): Promise<number> {
    // the flow notices of its last acks are carried before it goes (the janitor would, a second later)
    await this.flowNoticesMoved();
    return recoverConsumer(await this.redis(), this.keys, {
      consumerId: this.id,
      staleAfterMs: undefined,
      reason,
      maxRecoveries: 0,
      deadMax: this.deadMax,
    });
  }

  /**
   * The tasks handed off to this consumer (see enqueue.lua's hand-off) that
   * it has not claimed yet: in its processing list, fenced `h:<ms> <this
   * consumer>`. A pool lists them, then waits for a reply on its subscriber
   * connection (a barrier: every message sent to it before has arrived),
   * and passes them to `reconcile` as settled.
   */
  async handedOff(): Promise<string[]> {
    const redis = await this.redis();
    const ids = await redis.lrange(this.keys.processing(this.id), 0, -1);
    if (ids.length === 0) return [];
    const fences = await redis.hmget(this.keys.fence, ...ids);
    // 'h:<ms> <consumer>', read as taskq_handed (lua/prelude.lua) reads it: the consumer follows the first space
    return ids.filter((_, i) => {
      const fence = fences[i];
      const space = fence?.startsWith('h:') === true ? fence.indexOf(' ', 2) : -1;
      return space > 2 && fence?.slice(space + 1) === this.id;
    });
  }

  /**
   * Returns to the queue every task in this consumer's processing list that
   * is not in `running`: tasks a fetch moved there whose reply was lost (a
   * dropped connection, a command re-sent after a reconnect). Call it only
   * while no fetch of this consumer is in flight. Returns the ids returned.
   *
   * Tasks handed off to this consumer and not claimed yet (a hand-off pool's,
   * see `handedOff`) are returned by `handOffs`' rule: `{ settled }`, only
   * those named (their wake messages certainly reached the pool, which did
   * not start them), any other is kept, its message may be on its way;
   * `{ graceMs }`, one handed off at least that long ago. Default
   * `{ graceMs: 2000 }`.
   */
  async reconcile(running: readonly string[], handOffs: ReconcileHandOffs = { graceMs: 2000 }): Promise<string[]> {
    const k = this.keys;
    const settled = 'settled' in handOffs ? [String(handOffs.settled.length), ...handOffs.settled] : [`g${Math.max(0, Math.round(handOffs.graceMs))}`];
    const reply = await SCRIPTS.reconcile.run(
      await this.redis(),
      scriptKeys('reconcile', k, this.id),
      [k.events, k.wake, `fetched by ${this.id} but the reply was lost; returned to the queue`, ...settled, ...running],
    );
    const ids = (reply as unknown[]).map(String);
    if (ids.length > 0) {
      this.logger.warn({ consumer: this.id, ids }, `returned ${ids.length} task(s) whose fetch reply was lost: ${ids.join(', ')}`);
    }
    return ids;
  }

  /**
   * Carries the queue's flow notices into their flows in the background (at
   * most one mover per consumer; a request while one runs makes it go
   * round once more). A failure is logged: the janitor's next pass carries
   * what is left.
   */
  private moveFlowNoticesSoon(): void {
    if (this.flowMover) {
      this.flowMoveAgain = true;
      return;
    }
    this.flowMover = (async () => {
      do {
        this.flowMoveAgain = false;
        await moveFlowNotices(await this.redis(), this.keys, this.logger);
      } while (this.flowMoveAgain);
    })()
      .catch((err: unknown) => this.logger.warn({ err, queue: this.keys.queue }, `flow notices of ${this.keys.queue} not carried yet (the janitor will): ${String(err)}`))
      .finally(() => {
        this.flowMover = undefined;
      });
  }

  /** Resolves once a background flow mover (see moveFlowNoticesSoon) finished. */
  async flowNoticesMoved(): Promise<void> {
    while (this.flowMover) await this.flowMover;
  }

  private warnRefused(op: string, taskId: string): void {
    this.logger.warn({ consumer: this.id, taskId, op }, `${op} of ${taskId} refused: this fetch no longer holds the task (it was recovered or released)`);
  }
}
