import type { Redis } from 'ioredis';
import { connectRedis, Queue } from '@taskq/queue';
import type { BenchPayload } from '../payload';
import { QUEUE_NAME, TASK_TYPE, type Producer, type Progress, type RedisTarget } from './producer';

/** taskq's producer: `Queue.enqueueMany` (1000 tasks per round trip), progress from the finished list. */
export class TaskqProducer implements Producer {
  readonly system = 'taskq' as const;

  private constructor(
    private readonly redis: Redis,
    private readonly queue: Queue,
  ) {}

  static async open(target: RedisTarget): Promise<TaskqProducer> {
    const redis = await connectRedis(target.url, { connectionName: 'bench-taskq-producer' });
    return new TaskqProducer(redis, new Queue({ queue: QUEUE_NAME, connection: redis }));
  }

  async enqueueBulk(payloads: readonly BenchPayload[]): Promise<void> {
    await this.queue.enqueueMany(payloads.map((payload) => ({ type: TASK_TYPE, payload })));
  }

  async enqueueOne(payload: BenchPayload): Promise<void> {
    await this.queue.enqueue({ type: TASK_TYPE, payload });
  }

  async queued(): Promise<number> {
    return this.redis.llen(this.queue.keys.ready);
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
