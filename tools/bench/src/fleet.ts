import type { SystemName } from './names';
import type { RedisCostPerTask } from './redis-cost';
import { WARMUP_MS } from './latency-runs';
import type { BenchPlan } from './plan';
import type { BenchResult, LatencyWarmup } from './results';
import { median, ratio, summarizeLatencies, type LatencySummary } from './stats';
import { splitByWeights } from './weighted';

/**
 * The pure parts of the fleet and idle-fleet scenarios (issue 18): several
 * worker processes on one queue.
 *
 * fleet: the drain (N tasks queued beforehand, a no-op handler, timed until
 * Redis shows every task finished) with K worker processes instead of one,
 * for every system alike, in two modes: the plan's concurrency split over the
 * K processes (`same-total`), or the plan's concurrency in each
 * (`same-per-process`). K = 1 is the same configuration in both modes (one
 * process of 50): it runs once and is reported under each mode.
 *
 * idle-fleet: W worker processes started and idle, then a trickle of tasks
 * one at a time; what each task costs Redis, and its enqueue-to-start time.
 */

/** The fleet scenario's modes, in the order they are reported. */
export const FLEET_MODES = [
  { name: 'same-total', label: 'same total concurrency' },
  { name: 'same-per-process', label: 'same concurrency per process' },
] as const;

export type FleetMode = (typeof FLEET_MODES)[number];
export type FleetModeName = FleetMode['name'];
export const FLEET_MODE_NAMES: readonly FleetModeName[] = FLEET_MODES.map((m) => m.name);

/**
 * The mode the targets judge: the "fleet drain at K = 2 and 4 >= 5x
 * BullMQ's at the same K" compares fleets as they are deployed (each worker
 * process with its usual concurrency, more processes for more throughput).
 */
export const FLEET_TARGET_MODE: FleetModeName = 'same-per-process';

/** One fleet configuration: K processes with these concurrencies, reported under these modes. */
export interface FleetConfig {
  readonly workers: number;
  /** Sub-workers of each process, one entry per process. */
  readonly concurrencies: readonly number[];
  /** The modes this configuration stands for (K = 1: both). */
  readonly modes: readonly FleetModeName[];
}

/** Each process's concurrency in `mode` with `workers` processes and the plan's `concurrency`. */
export function fleetConcurrencies(mode: FleetModeName, workers: number, concurrency: number): number[] {
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers must be a whole number >= 1, got ${workers}`);
  if (mode === 'same-per-process') return Array.from({ length: workers }, () => concurrency);
  if (concurrency < workers) throw new RangeError(`concurrency ${concurrency} cannot give each of ${workers} processes a sub-worker`);
  return splitByWeights(concurrency, Array.from({ length: workers }, () => 1));
}

/**
 * The configurations to run, in order: ascending K, and for each K the modes
 * in FLEET_MODES order; configurations with the same concurrencies (K = 1 in
 * both modes) run once and carry every mode they stand for.
 */
export function fleetConfigs(ks: readonly number[], modes: readonly FleetModeName[], concurrency: number): FleetConfig[] {
  const configs: { workers: number; concurrencies: number[]; modes: FleetModeName[] }[] = [];
  for (const workers of [...new Set(ks)].sort((a, b) => a - b)) {
    for (const mode of FLEET_MODE_NAMES.filter((m) => modes.includes(m))) {
      const concurrencies = fleetConcurrencies(mode, workers, concurrency);
      const same = configs.find((c) => c.workers === workers && c.concurrencies.join(',') === concurrencies.join(','));
      if (same) same.modes.push(mode);
      else configs.push({ workers, concurrencies, modes: [mode] });
    }
  }
  return configs;
}

/** `4 x 50` or `13+13+12+12`: a configuration's processes and their sub-workers. */
export function describeConcurrencies(concurrencies: readonly number[]): string {
  const first = concurrencies[0];
  return concurrencies.every((c) => c === first) ? `${concurrencies.length} x ${first}` : concurrencies.join('+');
}

/** One fleet run: its rate, what Redis spent per task (INFO), and the worker processes' CPU per task where /proc could be read. */
export interface FleetSample extends RedisCostPerTask {
  readonly tasksPerSec: number;
  readonly workerUsPerTask: number | undefined;
  /** Tasks each process ran (for the progress line: how evenly the fleet shared the queue). */
  readonly ranPerWorker?: readonly number[];
}

/** fleet: one system, K and mode; every figure the median over the runs (each on its own). */
export interface FleetResult extends Partial<RedisCostPerTask> {
  readonly bench: 'fleet';
  readonly system: SystemName;
  readonly n: number;
  readonly mode: FleetModeName;
  /** K: worker processes. */
  readonly workers: number;
  /** Sub-workers of each process. */
  readonly concurrency: readonly number[];
  readonly tasksPerSec: number;
  readonly usPerTask: number;
  readonly runs: readonly number[];
  /** CPU (utime + stime, /proc) of all K worker processes over the timed part, per task; absent where /proc cannot be read. */
  readonly workerUsPerTask?: number;
}

/** The medians of a cell's samples, as the fields of a FleetResult. */
export function summarizeFleet(samples: readonly FleetSample[]): Pick<FleetResult, 'tasksPerSec' | 'usPerTask' | 'runs' | 'workerUsPerTask'> & RedisCostPerTask {
  if (samples.length === 0) throw new RangeError('no fleet samples');
  const of = (key: keyof RedisCostPerTask): number => median(samples.map((s) => s[key]));
  const tasksPerSec = median(samples.map((s) => s.tasksPerSec));
  const worker = samples.map((s) => s.workerUsPerTask);
  return {
    tasksPerSec,
    usPerTask: 1e6 / tasksPerSec,
    runs: samples.map((s) => s.tasksPerSec),
    redisUsPerTask: of('redisUsPerTask'),
    redisCommandsPerTask: of('redisCommandsPerTask'),
    redisReadsPerTask: of('redisReadsPerTask'),
    redisScriptCallsPerTask: of('redisScriptCallsPerTask'),
    ...(worker.every((w): w is number => w !== undefined) ? { workerUsPerTask: median(worker) } : {}),
  };
}

/** A fleet result's ratios: to BullMQ and bee-queue at the same K and mode, and to the same system's K = 1 in the same mode. */
export function fleetRatios(result: FleetResult, all: readonly BenchResult[]): { ratioVsBullmq?: number; ratioVsBeeQueue?: number; ratioVsOneWorker?: number } {
  const fleet = all.filter((r): r is FleetResult => r.bench === 'fleet');
  const at = (system: SystemName, workers: number): number | undefined =>
    fleet.find((r) => r.system === system && r.workers === workers && r.mode === result.mode)?.tasksPerSec;
  return {
    ratioVsBullmq: ratio(result.tasksPerSec, at('bullmq', result.workers)),
    ratioVsBeeQueue: ratio(result.tasksPerSec, at('bee-queue', result.workers)),
    ratioVsOneWorker: ratio(result.tasksPerSec, at(result.system, 1)),
  };
}

/**
 * idle-fleet: W idle worker processes of `concurrency` each, then `n` tasks
 * one at a time at `ratePerSec`; what Redis spent over the stream per task
 * (INFO: CPU, commands, socket reads, script calls) and the enqueue-to-start
 * percentiles over all the processes' tasks.
 */
export interface IdleFleetResult extends RedisCostPerTask {
  readonly bench: 'idle-fleet';
  readonly system: SystemName;
  readonly n: number;
  readonly workers: number;
  /** Sub-workers of each process. */
  readonly concurrency: number;
  readonly ratePerSec: number;
  readonly durationMs: number;
  /** The warm-up streamed before, at the same rate, ms: its latencies are `warmup`, not counted in the percentiles above. */
  readonly warmupMs: number;
  /** Rate the producer achieved (tasks / time until the last enqueue replied). */
  readonly sentPerSec: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** The warm-up's enqueue-to-start percentiles: the fleet's first tasks, every process cold. */
  readonly warmup: LatencyWarmup;
  /** Tasks of the measured stream each process ran, in process order (they sum to n). */
  readonly ranPerWorker: readonly number[];
  /** CPU (utime + stime, /proc) of all the worker processes over the window, per task; absent where /proc cannot be read. */
  readonly workerUsPerTask?: number;
}

/** The idle fleet's warm-up, ms: latency's (WARMUP_MS), but never longer than the stream (smoke's 0.5 s gets 0.5 s). */
export function idleFleetWarmupMs(plan: Pick<BenchPlan, 'idleFleetMs'>): number {
  return Math.min(WARMUP_MS, plan.idleFleetMs);
}

/**
 * Splits each process's latencies, in the order its handlers started, at the
 * count it had run when the warm-up had finished (`warmed`, per process): the
 * warm-up's and the measured stream's, each summarized over all processes,
 * and the tasks of the stream each process ran.
 */
export function splitFleetWarmup(
  reports: readonly { readonly handled: number; readonly latenciesMs: readonly number[] }[],
  warmed: readonly number[],
): { warmup: LatencySummary; run: LatencySummary; ranPerWorker: number[] } {
  if (warmed.length !== reports.length) throw new RangeError(`${warmed.length} warm-up counts for ${reports.length} processes`);
  const warm: number[] = [];
  const run: number[] = [];
  reports.forEach((r, i) => {
    if (r.latenciesMs.length !== r.handled || warmed[i] > r.handled) {
      throw new RangeError(`process ${i + 1}: ${r.latenciesMs.length} latencies for ${r.handled} task(s), ${warmed[i]} of them the warm-up`);
    }
    warm.push(...r.latenciesMs.slice(0, warmed[i]));
    run.push(...r.latenciesMs.slice(warmed[i]));
  });
  return { warmup: summarizeLatencies(warm), run: summarizeLatencies(run), ranPerWorker: reports.map((r, i) => r.handled - warmed[i]) };
}

/**
 * The idle-fleet target: taskq's script calls per task (its enqueue's included)
 * over the stream, an absolute figure, not a ratio.
 */
export function idleFleetScriptCalls(all: readonly BenchResult[]): number | undefined {
  return all.find((r): r is IdleFleetResult => r.bench === 'idle-fleet' && r.system === 'taskq')?.redisScriptCallsPerTask;
}

/** The fleet targets' figure: taskq's tasks/s ÷ BullMQ's at K workers in the judged mode. */
export function fleetTargetRatio(all: readonly BenchResult[], workers: number, mode: FleetModeName = FLEET_TARGET_MODE): number | undefined {
  const fleet = all.filter((r): r is FleetResult => r.bench === 'fleet' && r.workers === workers && r.mode === mode);
  return ratio(fleet.find((r) => r.system === 'taskq')?.tasksPerSec, fleet.find((r) => r.system === 'bullmq')?.tasksPerSec);
}

/**
 * Why a fleet run's counts are wrong, or undefined when they are right: the
 * processes together ran each of the `n` tasks once (fewer: lost; more: some
 * ran twice).
 */
export function ranCountProblem(system: SystemName, ranPerWorker: readonly number[], n: number): { lost: boolean; message: string } | undefined {
  const ran = ranPerWorker.reduce((a, b) => a + b, 0);
  if (ran === n) return undefined;
  const each = ranPerWorker.length > 1 ? ` (${ranPerWorker.join(' + ')})` : '';
  return ran < n
    ? { lost: true, message: `${system}: the worker processes ran ${ran}${each} of ${n} task(s)` }
    : { lost: false, message: `${system}: the worker processes ran ${ran}${each} tasks for ${n}: some ran more than once` };
}
