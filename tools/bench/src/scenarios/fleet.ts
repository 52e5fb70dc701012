import { describeConcurrencies, fleetConfigs, ranCountProblem, summarizeFleet, type FleetConfig, type FleetSample } from '../fleet';
import type { SystemName } from '../names';
import { errorMessage, formatInt, type BenchOutcome, type Progress } from '../outcome';
import { canReadProcessCpu, processesCpuMs } from '../proc-cpu';
import { flushAll } from '../redis-admin';
import { redisCostBetween, redisCostPerTask, redisCostSnapshot } from '../redis-cost';
import { openProducer } from '../systems/open-producer';
import { waitForDrain } from '../wait-for-drain';
import { WorkerProcess } from '../worker-process';
import type { WorkerConfig } from '../workers/protocol';
import type { ClusterWorker, StartWorker } from './cluster-drain';
import { LostTasksError, RunCheckError, type BenchContext } from './context';
import { prepareQueue } from './prepare';

export type { StartWorker };

/** Starts one worker process per config, all at once; if one fails, the others are killed and the error thrown. */
export async function startFleet(configs: readonly WorkerConfig[], startWorker: StartWorker): Promise<ClusterWorker[]> {
  const started = await Promise.allSettled(configs.map((config) => startWorker(config)));
  const workers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(workers.map((w) => w.kill()));
    throw failed.reason;
  }
  return workers;
}

/** utime + stime of these processes, ms; undefined where it cannot be read (no /proc, or a worker in this process). */
export function workersCpuMs(workers: readonly ClusterWorker[]): number | undefined {
  if (!canReadProcessCpu() || workers.some((w) => w.pid === undefined)) return undefined;
  return processesCpuMs(workers.map((w) => w.pid ?? 0));
}

/** Throws unless the fleet's processes together ran each of the `n` tasks once: LostTasksError for fewer, RunCheckError for more. */
export function assertRanOnce(system: SystemName, ranPerWorker: readonly number[], n: number): void {
  const problem = ranCountProblem(system, ranPerWorker, n);
  if (problem) throw problem.lost ? new LostTasksError(problem.message) : new RunCheckError(problem.message);
}

/**
 * One fleet run: `n` tasks queued (untimed), then one worker process per
 * entry of `concurrencies`, all started and connected before the clock; timed
 * from "go" to all of them until Redis shows every task finished. Redis's
 * cost (INFO) and the processes' CPU (/proc) over the same span. Checked: the
 * processes together ran each task once.
 */
export async function runFleetDrain(
  ctx: BenchContext,
  system: SystemName,
  n: number,
  concurrencies: readonly number[],
  startWorker: StartWorker,
): Promise<FleetSample> {
  await flushAll(ctx.admin);
  const producer = await openProducer(system, ctx.target);
  let workers: ClusterWorker[] = [];
  try {
    await prepareQueue(producer, n);
    workers = await startFleet(
      concurrencies.map((concurrency) => ({ system, url: ctx.target.url, concurrency, retainAtLeast: n, recordLatency: false })),
      startWorker,
    );
    const ws = workers;
    const healthy = (): void => {
      for (const w of ws) w.assertHealthy();
    };
    const cpu0 = workersCpuMs(ws);
    const redis0 = await redisCostSnapshot(ctx.admin);
    const t0 = performance.now();
    const started = Promise.all(ws.map((w) => w.go()));
    started.catch(() => undefined); // surfaced by assertHealthy and below
    const t1 = await waitForDrain(producer, n, t0, healthy);
    const redis1 = await redisCostSnapshot(ctx.admin);
    const cpu1 = workersCpuMs(ws);
    await started;
    const reports = await Promise.all(ws.map((w) => w.report()));
    const ranPerWorker = reports.map((r) => r.handled);
    assertRanOnce(system, ranPerWorker, n);
    await Promise.all(ws.map((w) => w.stop()));
    workers = [];
    return {
      tasksPerSec: n / ((t1 - t0) / 1000),
      ...redisCostPerTask(redisCostBetween(redis0, redis1), n),
      workerUsPerTask: cpu0 !== undefined && cpu1 !== undefined ? ((cpu1 - cpu0) * 1000) / n : undefined,
      ranPerWorker,
    };
  } finally {
    await Promise.all(workers.map((w) => w.kill()));
    await producer.close();
  }
}

const sampleText = (s: FleetSample): string =>
  `${formatInt(s.tasksPerSec)} tasks/s (Redis ${s.redisUsPerTask.toFixed(2)} µs, ${s.redisScriptCallsPerTask.toFixed(3)} script calls/task` +
  (s.workerUsPerTask === undefined ? ')' : `; workers ${s.workerUsPerTask.toFixed(2)} µs/task)`) +
  (s.ranPerWorker && s.ranPerWorker.length > 1 ? `, ran ${s.ranPerWorker.join(' / ')}` : '');

/**
 * The fleet scenario: for each configuration (fleet.ts fleetConfigs: K = 1,
 * 2, 4 in each mode) and system, `repeat` drains, interleaving configurations
 * and systems in every repeat; the median of each cell, reported once per
 * mode the configuration stands for. A system that fails a configuration is
 * recorded and skipped in it for the rest of the scenario.
 */
export async function runFleet(
  ctx: BenchContext,
  systems: readonly SystemName[],
  progress: Progress,
  out: BenchOutcome,
  signal: AbortSignal,
  startWorker: StartWorker = (config) => WorkerProcess.start(config),
): Promise<void> {
  const { fleetN: n, repeat } = ctx.plan;
  type Cell = { readonly config: FleetConfig; readonly system: SystemName; readonly samples: FleetSample[]; failed: boolean };
  const cells: Cell[] = fleetConfigs(ctx.plan.fleetK, ctx.plan.fleetModes, ctx.plan.concurrency).flatMap((config) =>
    systems.map((system) => ({ config, system, samples: [], failed: false })),
  );
  for (let r = 1; r <= repeat; r++) {
    for (const cell of cells) {
      if (cell.failed) continue;
      signal.throwIfAborted();
      const { config, system } = cell;
      const what = `fleet ${system} ${describeConcurrencies(config.concurrencies)} (${config.modes.join(', ')}) n=${formatInt(n)} run ${r}/${repeat}`;
      try {
        const sample = await runFleetDrain(ctx, system, n, config.concurrencies, startWorker);
        cell.samples.push(sample);
        progress(`${what}: ${sampleText(sample)}`);
      } catch (err) {
        cell.failed = true;
        out.errors.push({ bench: 'fleet', system, n, error: `${describeConcurrencies(config.concurrencies)}: ${errorMessage(err)}` });
        progress(`${what}: ERROR ${errorMessage(err)}`);
      }
    }
  }
  for (const { config, system, samples, failed } of cells) {
    if (failed || samples.length === 0) continue;
    const summary = summarizeFleet(samples);
    for (const mode of config.modes) {
      out.results.push({ bench: 'fleet', system, n, mode, workers: config.workers, concurrency: config.concurrencies, ...summary });
    }
  }
}
