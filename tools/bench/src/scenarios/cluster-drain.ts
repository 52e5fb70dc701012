import { cpuPerTask, type CpuPerTask } from '../cluster';
import type { SystemName } from '../names';
import { payloads } from '../payload';
import { SETUP_CHUNK } from '../plan';
import { canReadProcessCpu, processesCpuMs } from '../proc-cpu';
import { openProducer } from '../systems/open-producer';
import { QUEUE_NAME, type Producer, type Progress } from '../systems/producer';
import { waitForDrain } from '../wait-for-drain';
import { splitByWeights } from '../weighted';
import type { WorkerConfig, WorkerReport } from '../workers/protocol';
import type { ClusterSite } from './cluster-rig';
import { LostTasksError, RunCheckError } from './context';

/** What a cluster run needs of its worker: a WorkerProcess in the bench, an in-process stand-in in the tests. */
export interface ClusterWorker {
  /** The process whose CPU time counts as the worker's (undefined: none, e.g. in this process). */
  readonly pid: number | undefined;
  go(): Promise<void>;
  report(): Promise<WorkerReport>;
  stop(): Promise<void>;
  kill(): Promise<void>;
  assertHealthy(): void;
}

export type StartWorker = (config: WorkerConfig) => Promise<ClusterWorker>;

/** One run's rate, and its CPU per task where /proc could be read. */
export interface ClusterRunSample {
  readonly tasksPerSec: number;
  readonly cpu: CpuPerTask | undefined;
}

/** CPU time of the given processes and of this one, ms; undefined where /proc cannot be read. */
function cpuNow(redisPids: readonly number[], workerPids: readonly number[]): { redisMs: number; workersMs: number; benchMs: number } | undefined {
  if (!canReadProcessCpu()) return undefined;
  const own = process.cpuUsage();
  return { redisMs: processesCpuMs(redisPids), workersMs: processesCpuMs(workerPids), benchMs: (own.user + own.system) / 1000 };
}

/**
 * One run of a cluster-scenario layout: `n` tasks split evenly over `queues`
 * (enqueued through the bulk API, untimed), then one worker process over
 * all of them with `concurrency` sub-workers (taskq: one WorkerPool over the
 * queues, equal weights; BullMQ: a Worker per queue, the concurrency split
 * evenly); timed from "go" until every queue shows all its tasks finished;
 * tasks/s over all the queues. Checked: each queue holds its tasks after the
 * enqueue, the worker ran at least `n` tasks, and no queue has a task left
 * afterwards. CPU: utime + stime of the site's redis-servers, the worker
 * process and this one over the timed part.
 */
export async function runClusterDrain(
  site: ClusterSite,
  system: SystemName,
  queues: readonly string[],
  n: number,
  concurrency: number,
  startWorker: StartWorker,
): Promise<ClusterRunSample> {
  await site.flush();
  const counts = splitByWeights(n, queues.map(() => 1));
  const count = (i: number): number => counts[i] ?? 0;
  const producers: Producer[] = [];
  let worker: ClusterWorker | undefined;
  try {
    for (const queue of queues) producers.push(await openProducer(system, site.target, queue));
    let next = 0;
    for (const [i, producer] of producers.entries()) {
      for (let from = 0; from < count(i); from += SETUP_CHUNK) await producer.enqueueBulk(payloads(Math.min(SETUP_CHUNK, count(i) - from), next + from));
      next += count(i);
      const queued = await producer.queued();
      if (queued !== count(i)) throw new LostTasksError(`${system}: ${queued} of ${count(i)} task(s) queued in ${queues[i]} after enqueueing`);
    }
    worker = await startWorker({
      system,
      url: site.target.url,
      concurrency,
      retainAtLeast: n,
      recordLatency: false,
      ...(queues.length > 1 || queues[0] !== QUEUE_NAME ? { queues: queues.map((name) => ({ name, weight: 1 })) } : {}),
    });
    const w = worker;
    const all = {
      system,
      progress: async (): Promise<Progress> => {
        const each = await Promise.all(producers.map((p, i) => p.progress(count(i))));
        return { remaining: each.reduce((sum, p) => sum + p.remaining, 0), failed: each.reduce((sum, p) => sum + p.failed, 0) };
      },
    };
    const workerPids = w.pid === undefined ? [] : [w.pid];
    const cpu0 = cpuNow(site.redisPids, workerPids);
    const t0 = performance.now();
    const started = w.go();
    started.catch(() => undefined); // surfaced by assertHealthy and below
    const t1 = await waitForDrain(all, n, t0, () => w.assertHealthy());
    const cpu1 = cpuNow(site.redisPids, workerPids);
    await started;
    const { handled } = await w.report();
    if (handled < n) throw new LostTasksError(`${system}: the worker ran ${handled} of ${n} task(s)`);
    const problems: string[] = [];
    for (const [i, producer] of producers.entries()) {
      const [ready, progress] = await Promise.all([producer.queued(), producer.progress(count(i))]);
      if (ready !== 0 || progress.remaining !== 0) problems.push(`queue ${queues[i]}: ${ready} ready and ${progress.remaining} unfinished after the drain`);
    }
    if (problems.length > 0) throw new RunCheckError(`${system}: ${problems.join('; ')}`);
    await w.stop();
    worker = undefined;
    const wallMs = t1 - t0;
    const cpu =
      cpu0 && cpu1
        ? cpuPerTask({ redisMs: cpu1.redisMs - cpu0.redisMs, workersMs: cpu1.workersMs - cpu0.workersMs, benchMs: cpu1.benchMs - cpu0.benchMs, wallMs }, n)
        : undefined;
    return { tasksPerSec: n / (wallMs / 1000), cpu };
  } finally {
    await worker?.kill();
    await Promise.all(producers.map((p) => p.close()));
  }
}
