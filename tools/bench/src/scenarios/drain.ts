import type { SystemName } from '../names';
import type { ThroughputRun } from '../results';
import { flushAll } from '../redis-admin';
import { redisCostBetween, redisCostPerTask, redisCostSnapshot } from '../redis-cost';
import { openProducer } from '../systems/open-producer';
import { countingPolls, waitForDrain } from '../wait-for-drain';
import { WorkerProcess } from '../worker-process';
import { LostTasksError, type BenchContext } from './context';
import { prepareQueue } from './prepare';

/**
 * One drain run: `n` tasks queued first (untimed), then one worker process
 * with the plan's concurrency and a no-op handler, timed from "go" until
 * Redis shows every task finished; tasks/s, and what that timed part cost
 * Redis per task (INFO read just before "go" and just after the last poll:
 * the untimed enqueue is not in it, the bench's own polls are).
 */
export async function runDrain(ctx: BenchContext, system: SystemName, n: number): Promise<ThroughputRun> {
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
    const counted = countingPolls(producer);
    const before = await redisCostSnapshot(ctx.admin);
    const t0 = performance.now();
    const started = w.go();
    started.catch(() => undefined); // surfaced by assertHealthy and below
    const t1 = await waitForDrain(counted.producer, n, t0, () => w.assertHealthy());
    const cost = redisCostBetween(before, await redisCostSnapshot(ctx.admin));
    await started;
    const { handled } = await w.report();
    if (handled < n) throw new LostTasksError(`${system}: the worker ran ${handled} of ${n} task(s)`);
    await w.stop();
    worker = undefined;
    return { tasksPerSec: n / ((t1 - t0) / 1000), redisCost: redisCostPerTask(cost, n), polls: counted.polls() };
  } finally {
    await worker?.kill();
    await producer.close();
  }
}
