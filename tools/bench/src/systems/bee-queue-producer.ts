import BeeQueue from 'bee-queue';
import type { BenchPayload } from '../payload';
import { QUEUE_NAME, type Producer, type Progress, type RedisTarget } from './producer';

/**
 * bee-queue's producer: `Queue.saveAll` (its bulk API, one pipeline), a
 * producer-only queue (no worker, no events) as its README advises,
 * progress from `checkHealth`.
 */
export class BeeQueueProducer implements Producer {
  readonly system = 'bee-queue' as const;

  private constructor(private readonly queue: BeeQueue<BenchPayload>) {}

  static async open(target: RedisTarget): Promise<BeeQueueProducer> {
    const queue = new BeeQueue<BenchPayload>(QUEUE_NAME, {
      redis: { host: target.host, port: target.port },
      isWorker: false,
      getEvents: false,
      storeJobs: false,
    });
    await queue.ready();
    return new BeeQueueProducer(queue);
  }

  async enqueueBulk(payloads: readonly BenchPayload[], priorities?: readonly number[]): Promise<void> {
    if (priorities !== undefined) throw new Error('bee-queue has no job priorities');
    const errors = await this.queue.saveAll(payloads.map((p) => this.queue.createJob(p)));
    const first = errors.values().next();
    if (!first.done) throw new Error(`bee-queue saveAll: ${errors.size} job(s) not saved: ${String(first.value)}`);
  }

  async enqueueOne(payload: BenchPayload): Promise<void> {
    await this.queue.createJob(payload).save();
  }

  async queued(): Promise<number> {
    const h = await this.queue.checkHealth();
    return h.waiting + h.delayed;
  }

  async progress(): Promise<Progress> {
    const h = await this.queue.checkHealth();
    return { remaining: h.waiting + h.active + h.delayed, failed: h.failed };
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
