import { payloads } from '../payload';
import type { SystemName } from '../names';
import type { ThroughputRun } from '../results';
import { flushAll } from '../redis-admin';
import { measureRedisCost, redisCostPerTask } from '../redis-cost';
import { openProducer } from '../systems/open-producer';
import { LostTasksError, type BenchContext } from './context';

/**
 * One enqueue run: `n` tasks through the system's bulk API in one call, on an
 * empty server; tasks/s, and what the call cost Redis per task.
 */
export async function runEnqueue(ctx: BenchContext, system: SystemName, n: number): Promise<ThroughputRun> {
  await flushAll(ctx.admin);
  const producer = await openProducer(system, ctx.target);
  try {
    const batch = payloads(n);
    const { result: ms, cost } = await measureRedisCost(ctx.admin, async () => {
      const t0 = performance.now();
      await producer.enqueueBulk(batch);
      return performance.now() - t0;
    });
    const queued = await producer.queued();
    if (queued !== n) throw new LostTasksError(`${system}: ${queued} of ${n} task(s) queued after enqueueing`);
    return { tasksPerSec: n / (ms / 1000), redisCost: redisCostPerTask(cost, n) };
  } finally {
    await producer.close();
  }
}
