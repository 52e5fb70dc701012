import type { SystemName } from '../names';
import type { MemoryResult } from '../results';
import { flushAll, usedMemory } from '../redis-admin';
import { openProducer } from '../systems/open-producer';
import type { BenchContext } from './context';
import { prepareQueue } from './prepare';

/**
 * Redis memory per queued task: INFO used_memory on an empty server (the
 * producer connected), then after queueing `memoryN` tasks with no worker
 * running; the difference over the count.
 */
export async function runMemory(ctx: BenchContext, system: SystemName): Promise<MemoryResult> {
  const n = ctx.plan.memoryN;
  await flushAll(ctx.admin);
  const producer = await openProducer(system, ctx.target);
  try {
    const before = await usedMemory(ctx.admin);
    await prepareQueue(producer, n);
    const after = await usedMemory(ctx.admin);
    return { bench: 'memory', system, n, usedMemoryBefore: before, usedMemoryAfter: after, bytesPerTask: (after - before) / n };
  } finally {
    await producer.close();
  }
}
