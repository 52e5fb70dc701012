import type { ScenarioName, SystemName } from './names';
import { notApplicable, SCALE_SYSTEMS } from './names';
import { isLeanSystem } from './reference/lean';
import { errorMessage as message, formatInt as fmt, type BenchOutcome, type Progress } from './outcome';
import { redisCostFields, type BenchResult, type ThroughputResult, type ThroughputRun } from './results';
import type { BenchContext } from './scenarios/context';
import { runCluster } from './scenarios/cluster';
import { runDrain } from './scenarios/drain';
import { runEnqueue } from './scenarios/enqueue';
import { runFleet } from './scenarios/fleet';
import { runIdleFleet } from './scenarios/idle-fleet';
import { runLatency } from './scenarios/latency';
import { runMemory } from './scenarios/memory';
import { runReplicas } from './scenarios/replicas';
import { runWeighted } from './scenarios/weighted';
import { median } from './stats';

export type { BenchOutcome, Progress };

/**
 * Runs a throughput measurement `repeat` times per system, interleaving the
 * systems (taskq, BullMQ, bee-queue, taskq, …) so that drift in the machine
 * weighs on all alike; reports the median per system. A system that fails
 * a run is recorded and skipped for the rest of this measurement. Runs that
 * measured their Redis cost (drain, enqueue) add its medians.
 */
async function repeated(
  bench: ThroughputResult['bench'],
  systems: readonly SystemName[],
  n: number,
  repeat: number,
  once: (system: SystemName) => Promise<number | ThroughputRun>,
  progress: Progress,
  out: BenchOutcome,
): Promise<void> {
  const runs = new Map<SystemName, ThroughputRun[]>(systems.map((s) => [s, []]));
  const failed = new Set<SystemName>();
  for (let r = 1; r <= repeat; r++) {
    for (const system of systems) {
      if (failed.has(system)) continue;
      try {
        const result = await once(system);
        const run: ThroughputRun = typeof result === 'number' ? { tasksPerSec: result } : result;
        runs.get(system)?.push(run);
        const cost = run.redisCost === undefined ? '' : `, Redis ${run.redisCost.redisUsPerTask.toFixed(1)} µs/task`;
        progress(`${bench} ${system} n=${fmt(n)} run ${r}/${repeat}: ${fmt(run.tasksPerSec)} tasks/s${cost}`);
      } catch (err) {
        failed.add(system);
        out.errors.push({ bench, system, n, error: message(err) });
        progress(`${bench} ${system} n=${fmt(n)} run ${r}/${repeat}: ERROR ${message(err)}`);
      }
    }
  }
  for (const system of systems) {
    const measured = runs.get(system) ?? [];
    if (failed.has(system) || measured.length === 0) continue;
    const rates = measured.map((m) => m.tasksPerSec);
    const tasksPerSec = median(rates);
    out.results.push({ bench, system, n, tasksPerSec, usPerTask: 1e6 / tasksPerSec, runs: rates, ...redisCostFields(bench, measured) });
  }
}

/** A single-run measurement per system (memory). */
async function once(
  bench: ScenarioName,
  systems: readonly SystemName[],
  n: number,
  run: (system: SystemName) => Promise<BenchResult>,
  describe: (r: BenchResult) => string,
  progress: Progress,
  out: BenchOutcome,
): Promise<void> {
  for (const system of systems) {
    try {
      const result = await run(system);
      out.results.push(result);
      progress(`${bench} ${system} n=${fmt(n)}: ${describe(result)}`);
    } catch (err) {
      out.errors.push({ bench, system, n, error: message(err) });
      progress(`${bench} ${system} n=${fmt(n)}: ERROR ${message(err)}`);
    }
  }
}

/** Runs the plan's scenarios in order, each system in turn, and collects results and failures. */
export async function runBench(ctx: BenchContext, progress: Progress, signal: AbortSignal): Promise<BenchOutcome> {
  const plan = ctx.plan;
  const out: BenchOutcome = { results: [], errors: [], notApplicable: [] };
  const guard = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      signal.throwIfAborted();
      return fn(...args);
    };
  // the lean references (reference/lean.ts) are measuring sticks for the drain only
  const peers = plan.systems.filter((s) => !isLeanSystem(s));
  // the peers that run `scenario`; the others are recorded (and shown) as n/a with the reason
  const applicable = (scenario: ScenarioName, n: number): SystemName[] => {
    for (const system of peers) {
      const reason = notApplicable(scenario, system);
      if (reason === undefined) continue;
      out.notApplicable.push({ bench: scenario, system, n, reason });
      progress(`${scenario} ${system} n=${fmt(n)}: n/a (${reason})`);
    }
    return peers.filter((s) => notApplicable(scenario, s) === undefined);
  };
  for (const scenario of plan.scenarios) {
    signal.throwIfAborted();
    switch (scenario) {
      case 'enqueue':
        await repeated('enqueue', peers, plan.n, plan.repeat, guard((s) => runEnqueue(ctx, s, plan.n)), progress, out);
        break;
      case 'drain':
        await repeated('drain', plan.systems, plan.n, plan.repeat, guard((s) => runDrain(ctx, s, plan.n)), progress, out);
        break;
      case 'weighted': {
        const n = plan.weightedN;
        await repeated('weighted', applicable('weighted', n), n, plan.repeat, guard((s) => runWeighted(ctx, s, n)), progress, out);
        break;
      }
      case 'cluster':
        await runCluster(ctx, applicable('cluster', plan.clusterN), progress, out, signal);
        break;
      case 'replicas':
        await runReplicas(ctx, applicable('replicas', plan.replicasN), progress, out, signal);
        break;
      case 'fleet':
        await runFleet(ctx, peers, progress, out, signal);
        break;
      case 'idle-fleet': {
        const n = Math.max(1, Math.round((plan.idleFleetRate * plan.idleFleetMs) / 1000));
        const show = (r: BenchResult): string =>
          r.bench === 'idle-fleet'
            ? `${r.redisScriptCallsPerTask.toFixed(2)} script calls, ${r.redisCommandsPerTask.toFixed(2)} commands, ${r.redisReadsPerTask.toFixed(2)} round trips, ` +
              `Redis ${r.redisUsPerTask.toFixed(2)} µs${r.workerUsPerTask === undefined ? '' : `, workers ${r.workerUsPerTask.toFixed(1)} µs`} per task; p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms (${r.workers} workers ran ${r.ranPerWorker.join('/')})`
            : '';
        await once('idle-fleet', peers, n, guard((s) => runIdleFleet(ctx, s)), show, progress, out);
        break;
      }
      case 'latency':
        await runLatency(ctx, peers, progress, out, signal);
        break;
      case 'memory': {
        const show = (r: BenchResult): string => (r.bench === 'memory' ? `${fmt(r.bytesPerTask)} bytes/task` : '');
        await once('memory', peers, plan.memoryN, guard((s) => runMemory(ctx, s)), show, progress, out);
        break;
      }
      case 'scale': {
        const systems = plan.systems.filter((s) => SCALE_SYSTEMS.includes(s));
        for (const n of plan.scaleSizes) {
          await repeated('scale', systems, n, plan.repeat, guard((s) => runDrain(ctx, s, n)), progress, out);
        }
        break;
      }
    }
  }
  return out;
}
