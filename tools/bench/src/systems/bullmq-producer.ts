import { Queue } from 'bullmq';
import type { BenchPayload } from '../payload';
import { bullmqPriority } from '../weighted';
import { bullmqConnection, type BullmqConnection } from './bullmq-connection';
import { checkPriorities, QUEUE_NAME, TASK_TYPE, type Producer, type Progress, type RedisTarget } from './producer';

/**
 * BullMQ's producer: `Queue.addBulk` (its bulk API, one MULTI), jobs removed
 * on completion as BullMQ recommends for throughput, progress from
 * `getJobCounts`. On a Redis Cluster (cluster scenario) with the queue's hash
 * tag as prefix (see bullmqConnection).
 */
export class BullmqProducer implements Producer {
  readonly system = 'bullmq' as const;

  private constructor(
    private readonly queue: Queue,
    private readonly connection: BullmqConnection,
  ) {}

  static async open(target: RedisTarget, name = QUEUE_NAME): Promise<BullmqProducer> {
    const connection = bullmqConnection(target.url, name, 'bench-bullmq-producer');
    const queue = new Queue(name, {
      connection: connection.connection,
      ...(connection.prefix === undefined ? {} : { prefix: connection.prefix }),
      defaultJobOptions: { removeOnComplete: true },
    });
    await queue.waitUntilReady();
    return new BullmqProducer(queue, connection);
  }

  /** With priorities: taskq's 0–9 mapped onto BullMQ's (1 highest; see bullmqPriority). */
  async enqueueBulk(payloads: readonly BenchPayload[], priorities?: readonly number[]): Promise<void> {
    checkPriorities(payloads, priorities);
    await this.queue.addBulk(
      priorities === undefined
        ? payloads.map((data) => ({ name: TASK_TYPE, data }))
        : payloads.map((data, k) => ({ name: TASK_TYPE, data, opts: { priority: bullmqPriority(priorities[k] ?? NaN) } })),
    );
  }

  async enqueueOne(payload: BenchPayload): Promise<void> {
    await this.queue.add(TASK_TYPE, payload);
  }

  async queued(): Promise<number> {
    const counts = await this.queue.getJobCounts('wait', 'prioritized', 'delayed');
    return (counts['wait'] ?? 0) + (counts['prioritized'] ?? 0) + (counts['delayed'] ?? 0);
  }

  async progress(): Promise<Progress> {
    const c = await this.queue.getJobCounts('wait', 'active', 'prioritized', 'delayed', 'waiting-children', 'failed');
    const n = (key: string): number => c[key] ?? 0;
    return {
      remaining: n('wait') + n('active') + n('prioritized') + n('delayed') + n('waiting-children'),
      failed: n('failed'),
    };
  }

  async close(): Promise<void> {
    await this.queue.close();
    await this.connection.close();
  }
}
