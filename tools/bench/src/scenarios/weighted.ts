import type { SystemName } from '../names';
import { epochNow } from '../payload';
import { SETUP_CHUNK } from '../plan';
import { flushAll } from '../redis-admin';
import { openProducer } from '../systems/open-producer';
import type { Producer, Progress } from '../systems/producer';
import { waitForDrain } from '../wait-for-drain';
import { splitByWeights, WEIGHTED_QUEUES, weightedPayloads, weightedRunProblems } from '../weighted';
import { WorkerProcess } from '../worker-process';
import { LostTasksError, RunCheckError, type BenchContext } from './context';

/**
 * One weighted run: `n` tasks over three queues (60 / 30 / 10 %, as their
 * weights 6:3:1), each with a priority 0–9 drawn from a seeded hash of its
 * number, enqueued through the bulk API (untimed); then one worker process
 * over the three queues (taskq: one WorkerPool with the weights; BullMQ: a
 * Worker per queue, the concurrency split by weight), timed from "go" until
 * Redis shows every task of every queue finished; tasks/s. Checked: each
 * queue's tasks all queued, all run once (the worker's count per queue),
 * high priorities first, and nothing left ready in any queue.
 */
export async function runWeighted(ctx: BenchContext, system: SystemName, n: number): Promise<number> {
  await flushAll(ctx.admin);
  const counts = splitByWeights(n, WEIGHTED_QUEUES.map((q) => q.weight));
  const expected = new Map(WEIGHTED_QUEUES.map((q, i) => [q.name, counts[i] ?? 0]));
  const producers: Producer[] = [];
  let worker: WorkerProcess | undefined;
  try {
    for (const q of WEIGHTED_QUEUES) producers.push(await openProducer(system, ctx.target, q.name));
    const t = epochNow();
    let next = 0;
    for (const [i, q] of WEIGHTED_QUEUES.entries()) {
      const producer = producers[i];
      const count = counts[i] ?? 0;
      for (let from = 0; from < count; from += SETUP_CHUNK) {
        const batch = weightedPayloads(q.name, Math.min(SETUP_CHUNK, count - from), next + from, t);
        await producer.enqueueBulk(batch, batch.map((p) => p.p));
      }
      next += count;
      const queued = await producer.queued();
      if (queued !== count) throw new LostTasksError(`${system}: ${queued} of ${count} task(s) queued in ${q.name} after enqueueing`);
    }
    worker = await WorkerProcess.start({
      system,
      url: ctx.target.url,
      concurrency: ctx.plan.concurrency,
      retainAtLeast: n,
      recordLatency: false,
      queues: WEIGHTED_QUEUES,
      recordPriorities: true,
    });
    const w = worker;
    // progress over the three queues: one read of each, in parallel
    const all = {
      system,
      progress: async (): Promise<Progress> => {
        const each = await Promise.all(producers.map((p, i) => p.progress(counts[i] ?? 0)));
        return { remaining: each.reduce((s, p) => s + p.remaining, 0), failed: each.reduce((s, p) => s + p.failed, 0) };
      },
    };
    const t0 = performance.now();
    const started = w.go();
    started.catch(() => undefined); // surfaced by assertHealthy and below
    const t1 = await waitForDrain(all, n, t0, () => w.assertHealthy());
    await started;
    const { handled, prioritiesByQueue } = await w.report();
    if (handled < n) throw new LostTasksError(`${system}: the worker ran ${handled} of ${n} task(s)`);
    const problems = weightedRunProblems(expected, prioritiesByQueue);
    // every queue drained: nothing left ready, nothing unfinished
    for (const [i, q] of WEIGHTED_QUEUES.entries()) {
      const producer = producers[i];
      const [ready, progress] = await Promise.all([producer.queued(), producer.progress(counts[i] ?? 0)]);
      if (ready !== 0 || progress.remaining !== 0) problems.push(`queue ${q.name}: ${ready} ready and ${progress.remaining} unfinished after the drain`);
    }
    if (problems.length > 0) throw new RunCheckError(`${system}: ${problems.join('; ')}`);
    await w.stop();
    worker = undefined;
    return n / ((t1 - t0) / 1000);
  } finally {
    await worker?.kill();
    await Promise.all(producers.map((p) => p.close()));
  }
}
