import { Queue } from 'bullmq';
import type { BenchPayload } from '../payload';
import { QUEUE_NAME, TASK_TYPE, type Producer, type Progress, type RedisTarget } from './producer';

/**
 * BullMQ's producer: `Queue.addBulk` (its bulk API, one MULTI), jobs removed
 * on completion as BullMQ recommends for throughput, progress from
 * `getJobCounts`.
 */
export class BullmqProducer implements Producer {
  readonly system = 'bullmq' as const;

  private constructor(private readonly queue: Queue) {}

  static async open(target: RedisTarget): Promise<BullmqProducer> {
    const queue = new Queue(QUEUE_NAME, {
      connection: { host: target.host, port: target.port, connectionName: 'bench-bullmq-producer' },
      defaultJobOptions: { removeOnComplete: true },
    });
    await queue.waitUntilReady();
    return new BullmqProducer(queue);
  }

  async enqueueBulk(payloads: readonly BenchPayload[]): Promise<void> {
    await this.queue.addBulk(payloads.map((data) => ({ name: TASK_TYPE, data })));
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
  }
}
