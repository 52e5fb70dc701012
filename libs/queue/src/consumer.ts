import type { Cluster, Redis } from 'ioredis';
import { inject, injectable } from 'tsyringe';
import { keysOf, silentLogger, TOKENS, type Logger, type QueueConfig, type QueueKeys } from '@taskq/recorder';
import { SCRIPTS } from './lua-script';
import { decodeFetchReply, type FetchedTask } from './fetched-task';
import { newConsumerId } from './ids';
import { QUEUE_TOKENS } from './tokens';

export interface ConsumerOptions {
  /** Consumer id; one processing list per consumer. Default: `<host>-<pid>-<random>`. */
  readonly id?: string;
}

/**
 * The worker side of a queue for one consumer (one process): registration
 * and heartbeats, reliable fetch into its own processing list, ack, reject
 * and release by task id. Each call is one Lua script, one round trip.
 */
@injectable()
export class Consumer {
  readonly id: string;
  readonly keys: QueueKeys;
  private readonly processing: string;

  constructor(
    @inject(TOKENS.Redis) private readonly redis: Redis | Cluster,
    @inject(TOKENS.QueueConfig) config: QueueConfig,
    @inject(TOKENS.Logger) private readonly logger: Logger = silentLogger,
    @inject(QUEUE_TOKENS.ConsumerOptions) options: ConsumerOptions = {},
  ) {
    this.keys = keysOf(config);
    this.id = options.id ?? newConsumerId();
    this.processing = this.keys.processing(this.id);
  }

  /** Adds this consumer to the registry (with a fresh heartbeat). */
  async register(): Promise<void> {
    await SCRIPTS.heartbeat.run(this.redis, [this.keys.consumers], [this.id, '1']);
  }

  /**
   * Proves this consumer is alive. Returns false when the janitor had already
   * presumed it dead (its tasks were recovered); it is then registered anew.
   */
  async heartbeat(): Promise<boolean> {
    const alive = await SCRIPTS.heartbeat.run(this.redis, [this.keys.consumers], [this.id, '0']);
    if (alive === 1) return true;
    this.logger.warn({ consumer: this.id }, `consumer ${this.id} was presumed dead; its tasks went back to the queue; registering again`);
    await this.register();
    return false;
  }

  /**
   * Moves up to `workers.length` ready tasks into this consumer's processing
   * list and records each InProgress for the worker at the same position.
   * Returns the tasks fetched (possibly none).
   */
  async fetch(workers: readonly string[]): Promise<FetchedTask[]> {
    if (workers.length === 0) return [];
    const k = this.keys;
    const keys = [k.ready, this.processing, k.tasks, k.attempts, k.status, k.seq, k.consumers];
    let reply = await SCRIPTS.fetch.run(this.redis, keys, [k.events, this.id, ...workers]);
    if (reply === -1) {
      this.logger.warn({ consumer: this.id }, `consumer ${this.id} is not registered (presumed dead); registering again`);
      await this.register();
      reply = await SCRIPTS.fetch.run(this.redis, keys, [k.events, this.id, ...workers]);
      if (reply === -1) return [];
    }
    return decodeFetchReply(reply as unknown[], workers);
  }

  /** Records the task Done. Returns false (and writes nothing) if this consumer no longer holds it. */
  async ack(taskId: string, worker: string): Promise<boolean> {
    const k = this.keys;
    const ok = await SCRIPTS.ack.run(this.redis, [this.processing, k.tasks, k.attempts, k.status, k.seq], [k.events, taskId, worker]);
    return this.accepted(ok, 'ack', taskId);
  }

  /** Records the task Failed with `reason` and keeps it in the rejected list. False if not held. */
  async reject(taskId: string, worker: string, reason: string): Promise<boolean> {
    const k = this.keys;
    const ok = await SCRIPTS.reject.run(
      this.redis,
      [this.processing, k.rejected, k.attempts, k.status, k.seq],
      [k.events, taskId, worker, reason],
    );
    return this.accepted(ok, 'reject', taskId);
  }

  /** Gives unfinished tasks back to the front of the ready list (Queued). Returns how many. */
  async release(taskIds: readonly string[], reason: string): Promise<number> {
    if (taskIds.length === 0) return 0;
    const k = this.keys;
    const n = await SCRIPTS.release.run(
      this.redis,
      [this.processing, k.ready, k.attempts, k.status, k.seq],
      [k.events, k.wake, reason, ...taskIds],
    );
    return Number(n);
  }

  /** Returns anything still held to the ready list and leaves the registry. Returns how many tasks. */
  async unregister(reason = `consumer ${this.id} stopped`): Promise<number> {
    const k = this.keys;
    const n = await SCRIPTS.recover.run(
      this.redis,
      [this.processing, k.ready, k.consumers, k.attempts, k.status, k.seq],
      [k.events, k.wake, this.id, -1, reason],
    );
    return Number(n);
  }

  private accepted(reply: unknown, op: string, taskId: string): boolean {
    if (reply === 1) return true;
    this.logger.warn(
      { consumer: this.id, taskId, op },
      `${op} of ${taskId} refused: consumer ${this.id} no longer holds it (recovered by the janitor)`,
    );
    return false;
  }
}
