import { connectRedisClient, Queue, type RedisClient } from '@taskq/queue';
import type { BenchPayload } from '../payload';
import { checkPriorities, QUEUE_NAME, TASK_TYPE, type Producer, type Progress, type RedisTarget } from './producer';

/**
 * taskq's producer for one queue: `Queue.enqueueMany` (1000 tasks per round
 * trip), progress from the finished list. On a `redis+cluster://` URL a
 * Cluster client (every read here names keys of the queue's one slot).
 */
export class TaskqProducer implements Producer {
  readonly system = 'taskq' as const;

  private constructor(
    private readonly redis: RedisClient,
    private readonly queue: Queue,
  ) {}

  static async open(target: RedisTarget, queue = QUEUE_NAME): Promise<TaskqProducer> {
    const redis = await connectRedisClient(target.url, { connectionName: 'bench-taskq-producer' });
    return new TaskqProducer(redis, new Queue({ queue, connection: redis }));
  }

  async enqueueBulk(payloads: readonly BenchPayload[], priorities?: readonly number[]): Promise<void> {
    checkPriorities(payloads, priorities);
    await this.queue.enqueueMany(
      priorities === undefined
        ? payloads.map((payload) => ({ type: TASK_TYPE, payload }))
        : payloads.map((payload, k) => ({ type: TASK_TYPE, payload, priority: priorities[k] })),
    );
  }

  async enqueueOne(payload: BenchPayload): Promise<void> {
    await this.queue.enqueue({ type: TASK_TYPE, payload });
  }

  /** Ready tasks: the default priority's list plus the other priorities' sorted set. */
  async queued(): Promise<number> {
    const k = this.queue.keys;
    const reply = await this.redis.pipeline().llen(k.ready).zcard(k.prioritized).exec();
    return (reply ?? []).reduce((sum, [err, value]) => {
      if (err) throw err;
      return sum + Number(value);
    }, 0);
  }

  /** Done tasks are in the finished list (the worker's retention keeps at least `total` of them). */
  async progress(total: number): Promise<Progress> {
    const k = this.queue.keys;
    const reply = await this.redis.pipeline().llen(k.finished).llen(k.rejected).llen(k.dead).zcard(k.delayed).exec();
    const [finished = 0, rejected = 0, dead = 0, delayed = 0] = (reply ?? []).map(([err, value]) => {
      if (err) throw err;
      return Number(value);
    });
    return { remaining: total - finished, failed: rejected + dead + delayed };
  }

  async close(): Promise<void> {
    await this.redis.quit();
  }
}
