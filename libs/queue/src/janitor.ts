import { Mutex } from 'redis-semaphore';
import { retentionOf, type RetentionOptions } from './config';
import { SCRIPTS } from './lua-script';
import { moveFlowNotices, pruneFlowIndex, reconcileUnsettledFlows } from './flow/flow-engine';
import { scriptKeys } from './script-keys';
import type { RetentionClientOptions } from './options';
import { QueueClient } from './queue-client';
import type { RedisClient } from './redis-handle';
import { DEFAULT_MAX_RECOVERIES, recoverConsumer } from './recover';
import { Queue } from './queue';
import { queueKeys, type QueueKeys } from './keys';
import { runDueTicks, type Tick } from './schedule';
import { repairLimits } from './limits';
import { THROUGHPUT_KEPT_MS } from './throughput';

/** How a janitor works (a worker pool takes these as its `janitor` option). */
export interface JanitorSettings {
  /** How often a pass runs, ms. Default 1000. */
  readonly intervalMs?: number;
  /** A consumer whose last heartbeat is older than this is presumed dead, ms. Default 5000. */
  readonly staleAfterMs?: number;
  /**
   * A task whose worker died while running it this many times is Dead (a
   * task that crashes its worker is not retried forever). Recoveries do not
   * count as attempts. Default 5.
   */
  readonly maxRecoveries?: number;
}

/** Options of a Janitor: its settings, the queue and the connection. */
export interface JanitorOptions extends JanitorSettings, RetentionClientOptions {
  /**
   * The queues it looks after, when more than one (a worker pool serving
   * several queues runs one janitor for all): each pass goes through them in
   * turn, each under its own queue's mutex. Default: `[queue]`.
   */
  readonly queues?: readonly string[];
}

export const DEFAULT_JANITOR_INTERVAL_MS = 1000;
export const DEFAULT_STALE_AFTER_MS = 5000;

/** What one janitor pass did. */
export interface JanitorPass {
  /** False when another process held the janitor mutex, so this pass did nothing. */
  readonly ran: boolean;
  /** Consumer id -> number of its tasks returned to the ready list. */
  readonly recovered: ReadonlyMap<string, number>;
  /** Finished tasks forgotten under the retention limits. */
  readonly trimmed: number;
  /** Schedule ticks whose task this pass enqueued (see Queue.schedule). */
  readonly ticks?: readonly Tick[];
}

/**
 * redis-semaphore's Mutex under the exact key given: its own names every key
 * `mutex:<key>`, outside taskq's prefix, where a Redis user limited to
 * `~taskq:*` may not write (every janitor pass would fail with NOPERM).
 */
class QueueMutex extends Mutex {
  constructor(client: ConstructorParameters<typeof Mutex>[0], key: string, options: ConstructorParameters<typeof Mutex>[2]) {
    super(client, key, options);
    this._key = key;
  }
}

/** Finished tasks forgotten per trim call; a pass calls again while a call is full. */
const TRIM_BATCH = 1000;
/** Most trim calls per pass, so one pass stays short. */
const TRIM_CALLS_PER_PASS = 20;

/**
 * Returns the tasks of dead consumers to the ready list. Safe to run in every
 * worker process: a pass runs only while holding a redis-semaphore mutex, so
 * one pass at a time runs across all processes (its key: `taskq:{q}:janitor`), and each recovery re-checks
 * the heartbeat inside its script.
 */
export class Janitor extends QueueClient {
  private readonly intervalMs: number;
  /** A consumer whose last heartbeat is older than this is presumed dead, ms. */
  readonly staleAfterMs: number;
  private readonly retention: Required<RetentionOptions>;
  private readonly maxRecoveries: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  /** When a command of this janitor last failed or was refused (Date.now()), e.g. OOM at maxmemory or a dropped connection. */
  private failedAt: number | undefined;
  /** Whether the hold-back after a failure was logged (once per failure). */
  private heldBackLogged = false;
  private recoveredTotal = 0;
  private readonly prefix: string | undefined;
  /** Each queue looked after, and the Queue that enqueues its schedule ticks (made at the first pass that has one). */
  private readonly queues: { readonly keys: QueueKeys; ticker?: Queue }[];
  private failedPasses = 0;
  /** When this janitor last pruned the flow index (see pruneFlowIndex). */
  private flowIndexPrunedAt = 0;

  // no default value: the constructor's length stays 1, so a container cannot build it without its options
  constructor(options?: JanitorOptions) {
    super(options ?? {}, 'taskq-janitor');
    options ??= {};
    this.retention = retentionOf(options);
    this.prefix = options.prefix;
    const names = options.queues ?? [this.keys.queue];
    if (names.length === 0) throw new RangeError('a janitor needs at least one queue');
    this.queues = [...new Set(names)].map((name) => ({ keys: name === this.keys.queue ? this.keys : queueKeys(name, this.prefix) }));
    this.intervalMs = options.intervalMs ?? DEFAULT_JANITOR_INTERVAL_MS;
    this.staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
    this.maxRecoveries = options.maxRecoveries ?? DEFAULT_MAX_RECOVERIES;
    if (!Number.isInteger(this.maxRecoveries) || this.maxRecoveries < 1) {
      throw new RangeError(`janitor maxRecoveries must be a whole number >= 1, got ${this.maxRecoveries}`);
    }
    // a Node timer longer than 2^31-1 ms fires after 1 ms: refuse it instead of busy-looping
    if (!(this.intervalMs > 0 && this.intervalMs <= 2 ** 31 - 1)) {
      throw new RangeError(`janitor intervalMs must be > 0 and <= ${2 ** 31 - 1}, got ${this.intervalMs}`);
    }
    if (!(this.staleAfterMs > 0)) throw new RangeError(`janitor staleAfterMs must be > 0, got ${this.staleAfterMs}`);
  }

  /** Starts periodic passes (again after a stop(): the connection the janitor owns reconnects). */
  start(): void {
    if (this.timer) return;
    this.reopenOwnConnection(); // after a stop()
    this.timer = setInterval(() => {
      if (this.running) return; // a slow pass is still going; skip this tick
      this.running = this.runOnce()
        .catch((err: unknown) => this.logger.warn({ err }, `janitor pass failed: ${String(err)}`))
        .finally(() => {
          this.running = undefined;
        });
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Stops periodic passes and waits for a pass under way; closes the connections the janitor opened. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
    await this.closeOwnConnection();
  }

  /**
   * One pass, if the mutex is free: recover every stale consumer's tasks, then
   * apply retention (and forget the outcome counts of minutes older than an hour). When a command of this janitor failed within the last
   * staleAfterMs (Redis refused writes at maxmemory, a restart, a dropped
   * connection), nobody is presumed dead: the consumers' heartbeats may have
   * been refused too. A consumer is judged only over time during which the
   * janitor's own commands (a write every pass: the mutex) succeeded.
   */
  async runOnce(): Promise<JanitorPass> {
    try {
      const pass = await this.pass();
      for (const n of pass.recovered.values()) this.recoveredTotal += n;
      return pass;
    } catch (err) {
      this.failedAt = Date.now();
      this.heldBackLogged = false;
      this.failedPasses++;
      throw err;
    }
  }

  /** Since this janitor was made: tasks it returned from dead consumers, and passes that failed (Redis refused or unreachable). */
  get stats(): { readonly recovered: number; readonly failedPasses: number } {
    return { recovered: this.recoveredTotal, failedPasses: this.failedPasses };
  }

  /** A pass over each queue in turn; with several queues, what they did summed (recoveries per consumer, trimmed tasks, ticks). */
  private async pass(): Promise<JanitorPass> {
    const redis = await this.connection.client();
    if (this.queues.length === 1) return this.passOf(this.queues[0], redis);
    const recovered = new Map<string, number>();
    let trimmed = 0;
    let ran = false;
    const ticks: Tick[] = [];
    for (const queue of this.queues) {
      const pass = await this.passOf(queue, redis);
      ran ||= pass.ran;
      for (const [consumer, n] of pass.recovered) recovered.set(consumer, (recovered.get(consumer) ?? 0) + n);
      trimmed += pass.trimmed;
      ticks.push(...(pass.ticks ?? []));
    }
    return { ran, recovered, trimmed, ticks };
  }

  /** One queue's pass, under its mutex. */
  private async passOf(queue: { readonly keys: QueueKeys; ticker?: Queue }, redis: RedisClient): Promise<JanitorPass> {
    const recovered = new Map<string, number>();
    let trimmed = 0;
    const mutex = new QueueMutex(redis, queue.keys.janitorLock, {
      acquireAttemptsLimit: 1,
      // A pass takes milliseconds; the lock is refreshed while one runs. A
      // short timeout means a worker killed mid-pass blocks the others for
      // at most a couple of seconds.
      lockTimeout: Math.max(2000, this.intervalMs * 2),
      // The lock can be lost during a pass: Redis restarted without it, or a failover to a replica
      // that never got it. redis-semaphore's default throws from its refresh timer, an unhandled
      // rejection that ends the worker. The pass goes on: its scripts check what they change (a
      // consumer that beat again is not recovered), so a second janitor at once is harmless.
      onLockLost: (err: Error) => {
        this.logger.warn({ queue: queue.keys.queue, err: err.message }, `janitor: lost its lock on queue ${queue.keys.queue} during a pass (${err.message}); the pass goes on`);
      },
    });
    if (!(await mutex.tryAcquire())) return { ran: false, recovered, trimmed };
    try {
      const k = queue.keys;
      const stale = (await SCRIPTS.staleConsumers.run(redis, scriptKeys('staleConsumers', k), [this.staleAfterMs])) as string[];
      for (const consumer of this.heldBack(stale)) {
        const n = await recoverConsumer(redis, k, {
          consumerId: consumer,
          staleAfterMs: this.staleAfterMs,
          reason: `recovered from dead consumer ${consumer}`,
          maxRecoveries: this.maxRecoveries,
          deadMax: this.retention.deadMax,
        });
        if (n < 0) continue; // it beat again since the scan
        recovered.set(consumer, n);
        this.logger.warn(
          { consumer, tasks: n, queue: k.queue },
          `janitor: consumer ${consumer} missed its heartbeats; returned ${n} task(s) to the queue${this.queues.length > 1 ? ` ${k.queue}` : ''}`,
        );
      }
      await moveFlowNotices(redis, k, this.logger);
      // flows left unsettled by an adder or canceller that stopped (one set for all queues: the first queue's pass looks)
      if (queue === this.queues[0]) {
        await reconcileUnsettledFlows(redis, k.prefix, this.logger);
        // the index of flows drops those forgotten after their retention: once a minute is plenty
        if (Date.now() - this.flowIndexPrunedAt >= 60_000) {
          this.flowIndexPrunedAt = Date.now();
          await pruneFlowIndex(redis, k.prefix);
        }
      }
      await repairLimits(redis, k, this.logger);
      const ticks = await this.tick(queue, redis);
      trimmed = await this.trim(k, redis);
      await SCRIPTS.throughputTrim.run(redis, scriptKeys('throughputTrim', k), [THROUGHPUT_KEPT_MS]);
      return { ran: true, recovered, trimmed, ticks };
    } finally {
      await mutex.release();
    }
  }

  /** The stale consumers that may be presumed dead: none while this janitor's own commands failed within staleAfterMs. */
  private heldBack(stale: readonly string[]): readonly string[] {
    const failedAgo = this.failedAt === undefined ? Infinity : Date.now() - this.failedAt;
    if (stale.length === 0 || failedAgo >= this.staleAfterMs) return stale;
    if (!this.heldBackLogged) {
      this.heldBackLogged = true;
      this.logger.warn(
        { consumers: stale, failedAgoMs: failedAgo },
        `janitor: ${stale.length} consumer(s) missed their heartbeats, but this janitor's own commands failed ${failedAgo} ms ago (Redis refused writes or was unreachable), so theirs may have been refused too: nobody is presumed dead until the janitor's commands have worked for ${this.staleAfterMs} ms`,
      );
    }
    return [];
  }

  /** Enqueues the task of every schedule whose tick is due (Redis time), once per tick. */
  private async tick(queue: { readonly keys: QueueKeys; ticker?: Queue }, redis: RedisClient): Promise<Tick[]> {
    const ticker = (queue.ticker ??= new Queue({ queue: queue.keys.queue, prefix: this.prefix, connection: this.connection, logger: this.logger }));
    const ticks = await runDueTicks(redis, queue.keys, (inputs) => ticker.enqueueMany(inputs));
    for (const t of ticks) {
      this.logger.info(
        { schedule: t.schedule, taskId: t.taskId, tickAt: t.at, queue: queue.keys.queue },
        `schedule ${t.schedule}: enqueued ${t.taskId} for its tick at ${new Date(t.at).toISOString()}${this.queues.length > 1 ? ` (queue ${queue.keys.queue})` : ''}`,
      );
    }
    return ticks;
  }

  /** Forgets Done/Cancelled tasks beyond the retention limits (age and count). */
  private async trim(k: QueueKeys, redis: RedisClient): Promise<number> {
    let total = 0;
    for (let call = 0; call < TRIM_CALLS_PER_PASS; call++) {
      const n = Number(
        await SCRIPTS.trim.run(redis, scriptKeys('trim', k), [this.retention.maxAgeMs, this.retention.maxCount, TRIM_BATCH]),
      );
      total += n;
      if (n < TRIM_BATCH) break;
    }
    if (total > 0) this.logger.debug({ trimmed: total }, `janitor: forgot ${total} finished task(s) (retention)`);
    return total;
  }
}
