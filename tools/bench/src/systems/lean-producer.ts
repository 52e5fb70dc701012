import type { Redis } from 'ioredis';
import { connectRedis } from '@taskq/queue';
import type { BenchPayload } from '../payload';
import { LEAN_KEYS, type LeanSystem } from '../reference/lean';
import type { Producer, Progress, RedisTarget } from './producer';

const CHUNK = 1000;

/**
 * The lean reference's producer (see reference/lean.ts): ids from a counter,
 * the payload's JSON stored in a hash, the ids pushed on the ready list; one
 * pipeline per 1,000 tasks. Progress: the finished list's length.
 */
export class LeanProducer implements Producer {
  private constructor(
    readonly system: LeanSystem,
    private readonly redis: Redis,
  ) {}

  static async open(system: LeanSystem, target: RedisTarget): Promise<LeanProducer> {
    return new LeanProducer(system, await connectRedis(target.url, { connectionName: `bench-${system}-producer` }));
  }

  async enqueueBulk(payloads: readonly BenchPayload[], priorities?: readonly number[]): Promise<void> {
    if (priorities !== undefined) throw new Error(`${this.system} has no priorities`);
    for (let from = 0; from < payloads.length; from += CHUNK) {
      const chunk = payloads.slice(from, from + CHUNK);
      const last = await this.redis.incrby(LEAN_KEYS.ids, chunk.length);
      const fields: string[] = [];
      const ids: string[] = [];
      chunk.forEach((p, k) => {
        const id = String(last - chunk.length + 1 + k);
        ids.push(id);
        fields.push(id, JSON.stringify(p));
      });
      await this.redis.pipeline().hset(LEAN_KEYS.tasks, ...fields).lpush(LEAN_KEYS.ready, ...ids).exec();
    }
  }

  async enqueueOne(payload: BenchPayload): Promise<void> {
    await this.enqueueBulk([payload]);
  }

  async queued(): Promise<number> {
    return this.redis.llen(LEAN_KEYS.ready);
  }

  async progress(total: number): Promise<Progress> {
    return { remaining: total - (await this.redis.llen(LEAN_KEYS.finished)), failed: 0 };
  }

  async close(): Promise<void> {
    await this.redis.quit();
  }
}
