import { payloads } from '../payload';
import type { SystemName } from '../names';
import { flushAll } from '../redis-admin';
import { openProducer } from '../systems/open-producer';
import { LostTasksError, type BenchContext } from './context';

/** One enqueue run: `n` tasks through the system's bulk API in one call, on an empty server; tasks/s. */
export async function runEnqueue(ctx: BenchContext, system: SystemName, n: number): Promise<number> {
  await flushAll(ctx.admin);
  const producer = await openProducer(system, ctx.target);
  try {
    const batch = payloads(n);
    const t0 = performance.now();
    await producer.enqueueBulk(batch);
    const ms = performance.now() - t0;
    const queued = await producer.queued();
    if (queued !== n) throw new LostTasksError(`${system}: ${queued} of ${n} task(s) queued after enqueueing`);
    return n / (ms / 1000);
  } finally {
    await producer.close();
  }
}
