import { CLUSTER_LAYOUTS, medianCpu, type ClusterLayout, type CpuPerTask } from '../cluster';
import type { SystemName } from '../names';
import { errorMessage, formatInt, type BenchOutcome, type Progress } from '../outcome';
import { median } from '../stats';
import { QUEUE_NAME } from '../systems/producer';
import { WorkerProcess } from '../worker-process';
import { runClusterDrain, type StartWorker } from './cluster-drain';
import { startClusterRig, type ClusterRig } from './cluster-rig';
import type { BenchContext } from './context';

const cpuText = (cpu: CpuPerTask | undefined): string =>
  cpu === undefined
    ? ''
    : ` (CPU µs/task: redis ${cpu.redisUsPerTask.toFixed(2)}, workers ${cpu.workerUsPerTask.toFixed(2)}, bench ${cpu.benchUsPerTask.toFixed(2)}; ${cpu.coresBusy.toFixed(2)} cores busy)`;

/**
 * The cluster scenario: the aggregate drain of each layout (CLUSTER_LAYOUTS:
 * 1 queue on the bench's server, 3 queues on it, 3 queues on the 3 masters of
 * a private cluster) for each system, `repeat` times, interleaving layouts and
 * systems so that drift in the machine weighs on all alike; the median of each.
 * A system that fails a layout is recorded and skipped in that layout for the
 * rest of the scenario. The cluster is started once, for the scenario only.
 */
export async function runCluster(
  ctx: BenchContext,
  systems: readonly SystemName[],
  progress: Progress,
  out: BenchOutcome,
  signal: AbortSignal,
  startWorker: StartWorker = (config) => WorkerProcess.start(config),
): Promise<void> {
  const { clusterN: n, repeat, concurrency } = ctx.plan;
  if (systems.length === 0) return;
  let rig: ClusterRig;
  try {
    rig = await startClusterRig(ctx);
  } catch (err) {
    for (const system of systems) out.errors.push({ bench: 'cluster', system, n, error: `the cluster did not start: ${errorMessage(err)}` });
    progress(`cluster: the cluster did not start: ${errorMessage(err)}`);
    return;
  }
  progress(`cluster: 3 masters up; queues ${rig.queues.join(', ')}, one on each`);
  type Cell = { readonly layout: ClusterLayout; readonly system: SystemName; readonly rates: number[]; readonly cpu: CpuPerTask[]; failed: boolean };
  const cells: Cell[] = CLUSTER_LAYOUTS.flatMap((layout) => systems.map((system) => ({ layout, system, rates: [], cpu: [], failed: false })));
  try {
    for (let r = 1; r <= repeat; r++) {
      for (const cell of cells) {
        if (cell.failed) continue;
        signal.throwIfAborted();
        const { layout, system } = cell;
        const site = layout.site === 'cluster' ? rig.cluster : rig.single;
        const queues = layout.queues === 1 ? [QUEUE_NAME] : rig.queues;
        const what = `cluster ${system} ${layout.name} n=${formatInt(n)} run ${r}/${repeat}`;
        try {
          const sample = await runClusterDrain(site, system, queues, n, concurrency, startWorker);
          cell.rates.push(sample.tasksPerSec);
          if (sample.cpu) cell.cpu.push(sample.cpu);
          progress(`${what}: ${formatInt(sample.tasksPerSec)} tasks/s${cpuText(sample.cpu)}`);
        } catch (err) {
          cell.failed = true;
          out.errors.push({ bench: 'cluster', system, n, error: `${layout.name}: ${errorMessage(err)}` });
          progress(`${what}: ERROR ${errorMessage(err)}`);
        }
      }
    }
  } finally {
    await rig.stop();
  }
  for (const { layout, system, rates, cpu, failed } of cells) {
    if (failed || rates.length === 0) continue;
    const tasksPerSec = median(rates);
    out.results.push({
      bench: 'cluster',
      system,
      n,
      layout: layout.name,
      queues: layout.queues,
      tasksPerSec,
      usPerTask: 1e6 / tasksPerSec,
      runs: rates,
      ...(cpu.length === rates.length ? medianCpu(cpu) : {}),
    });
  }
}
