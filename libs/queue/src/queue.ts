import type { Cluster, Redis } from 'ioredis';
import { inject, injectable } from 'tsyringe';
import { keysOf, TOKENS, type QueueConfig, type QueueKeys } from '@taskq/recorder';
import { SCRIPTS } from './lua-script';
import { newTaskId } from './ids';
import { encodeTask, validateInput, type JsonValue, type Task, type TaskInput } from './task';

/** Tasks per enqueue script call; bounds the size of one Redis command. */
const ENQUEUE_CHUNK = 1000;

/**
 * The producer side of a queue: enqueue tasks and inspect the queue.
 * Every enqueued task is recorded `Queued` and published in the same script.
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

  /** Enqueues one task; returns it (with its id). */
  async enqueue<P extends JsonValue>(input: TaskInput<P>): Promise<Task<P>> {
    const [task] = await this.enqueueMany([input]);
    return task as Task<P>;
  }

  /**
   * Enqueues many tasks, in chunks of 1000 per round trip. All inputs are
   * validated before anything is written. Ids that already exist are left as
   * they are. Returns the tasks in input order.
   */
  async enqueueMany<P extends JsonValue>(inputs: readonly TaskInput<P>[]): Promise<Task<P>[]> {
    const now = Date.now();
    const tasks: Task<P>[] = [];
    const args: string[] = [];
    for (const input of inputs) {
      validateInput(input);
      const task: Task<P> = {
        id: input.id ?? newTaskId(),
        type: input.type,
        payload: (input.payload ?? null) as P,
        enqueuedAt: now,
      };
      args.push(task.id, encodeTask(task));
      tasks.push(task);
    }
    for (let i = 0; i < args.length; i += ENQUEUE_CHUNK * 2) {
      const k = this.keys;
      await SCRIPTS.enqueue.run(
        this.redis,
        [k.ready, k.tasks, k.attempts, k.status, k.seq],
        [k.events, k.wake, ...args.slice(i, i + ENQUEUE_CHUNK * 2)],
      );
    }
    return tasks;
  }

  /** Number of tasks waiting in the ready list. */
  async readyCount(): Promise<number> {
    return this.redis.llen(this.keys.ready);
  }

  /** Ids of rejected (Failed) tasks, newest first. */
  async rejectedIds(start = 0, stop = -1): Promise<string[]> {
    return this.redis.lrange(this.keys.rejected, start, stop);
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
