import type { SystemName } from '../names';
import { flushAll } from '../redis-admin';
import { openProducer } from '../systems/open-producer';
import { waitForDrain } from '../wait-for-drain';
import { WorkerProcess } from '../worker-process';
import { LostTasksError, type BenchContext } from './context';
import { prepareQueue } from './prepare';

/**
 * One drain run: `n` tasks queued first (untimed), then one worker process
 * with the plan's concurrency and a no-op handler, timed from "go" until
 * Redis shows every task finished; tasks/s.
 */
export async function runDrain(ctx: BenchContext, system: SystemName, n: number): Promise<number> {
  await flushAll(ctx.admin);
  const producer = await openProducer(system, ctx.target);
  let worker: WorkerProcess | undefined;
  try {
    await prepareQueue(producer, n);
    worker = await WorkerProcess.start({
      system,
      url: ctx.target.url,
      concurrency: ctx.plan.concurrency,
      retainAtLeast: n,
      recordLatency: false,
    });
    const w = worker;
    const t0 = performance.now();
    const started = w.go();
    started.catch(() => undefined); // surfaced by assertHealthy and below
    const t1 = await waitForDrain(producer, n, t0, () => w.assertHealthy());
    await started;
    const { handled } = await w.report();
    if (handled < n) throw new LostTasksError(`${system}: the worker ran ${handled} of ${n} task(s)`);
    await w.stop();
    worker = undefined;
    return n / ((t1 - t0) / 1000);
  } finally {
    await worker?.kill();
    await producer.close();
  }
}
