import type { ClusterLayoutName, CpuPerTask } from './cluster';
import { BASELINE_LAYOUT } from './cluster';
import { fleetRatios, type FleetResult, type IdleFleetResult } from './fleet';
import type { ScenarioName, SystemName } from './names';
import { redisCostSummary, tasksPerSecPerRedisCore, type RedisCostPerTask, type RedisCostSummary } from './redis-cost';
import { REPLICAS_BASELINE, replicasRatios, type ReplicasModeName, type ReplicasRatios, type ReplicasSummary, type WaitOption } from './replicas';
import { median, ratio } from './stats';

/** The scenarios whose runs measure what they cost Redis per task. */
export const REDIS_COST_SCENARIOS: readonly ScenarioName[] = ['drain', 'enqueue', 'latency'];

/**
 * drain, enqueue and latency: what the timed part of each run cost the
 * bench's redis-server per task (CPU µs, commands, socket reads, script
 * calls; see redis-cost.ts), each the median over the runs.
 */
export interface RedisCostFields extends Partial<RedisCostSummary> {
  /** drain only: 1e6 / redisUsPerTask, the tasks/s one Redis core could serve at this cost. */
  readonly tasksPerSecPerRedisCore?: number;
  /** drain and latency: the bench's own completion polls (waitForDrain) in the measured part, median over the runs; their commands are in the figures above. */
  readonly waitForDrainPolls?: number;
}

/** One run of a throughput measurement: tasks/s, and (drain, enqueue) what its timed part cost Redis per task. */
export interface ThroughputRun {
  readonly tasksPerSec: number;
  readonly redisCost?: RedisCostPerTask;
  /** drain: the bench's completion polls in the timed part. */
  readonly polls?: number;
}

/**
 * The Redis cost figures of a drain or enqueue result: the medians over its
 * runs (none unless every run measured it; none for the other scenarios),
 * with the drain's tasks/s per Redis core and its polls.
 */
export function redisCostFields(bench: ScenarioName, runs: readonly ThroughputRun[]): RedisCostFields {
  const costs = runs.flatMap((r) => (r.redisCost === undefined ? [] : [r.redisCost]));
  if (!REDIS_COST_SCENARIOS.includes(bench) || costs.length === 0 || costs.length !== runs.length) return {};
  const summary = redisCostSummary(costs);
  const polls = runs.flatMap((r) => (r.polls === undefined ? [] : [r.polls]));
  return {
    ...summary,
    ...(bench === 'drain' ? { tasksPerSecPerRedisCore: tasksPerSecPerRedisCore(summary.redisUsPerTask) } : {}),
    ...(polls.length === runs.length ? { waitForDrainPolls: median(polls) } : {}),
  };
}

/** enqueue, drain, weighted and scale: tasks per second, the median of `runs`. */
export interface ThroughputResult extends RedisCostFields {
  readonly bench: 'enqueue' | 'drain' | 'weighted' | 'scale';
  readonly system: SystemName;
  readonly n: number;
  /** Median of `runs`. */
  readonly tasksPerSec: number;
  /** 1,000,000 / tasksPerSec: the cost of one task. */
  readonly usPerTask: number;
  /** tasks/s of every run, in run order. */
  readonly runs: readonly number[];
}

/** latency: the first second of a fresh worker, not counted in the run's percentiles, each figure the median over the runs; idle-fleet: its first second (or shorter stream) over all its processes. */
export interface LatencyWarmup {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/**
 * latency: enqueue-to-start, at a steady rate into an idle worker, after a
 * warm-up at the same rate; each percentile the median over the runs.
 */
export interface LatencyResult extends RedisCostFields {
  readonly bench: 'latency';
  readonly system: SystemName;
  /** Tasks per run, the warm-up's not included. */
  readonly n: number;
  readonly ratePerSec: number;
  readonly durationMs: number;
  /** Rate the producer achieved (tasks / time until the last enqueue replied), median; well below ratePerSec means the producer could not keep up. */
  readonly sentPerSec: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** p99 of every run, in run order. */
  readonly runsP99Ms: readonly number[];
  /** How long each run's warm-up streamed, ms. */
  readonly warmupMs: number;
  readonly warmup: LatencyWarmup;
}

/** memory: Redis used_memory growth per queued task. */
export interface MemoryResult {
  readonly bench: 'memory';
  readonly system: SystemName;
  readonly n: number;
  readonly usedMemoryBefore: number;
  readonly usedMemoryAfter: number;
  readonly bytesPerTask: number;
}

/**
 * cluster: one layout's aggregate drain, tasks/s, the median of `runs`; with
 * the CPU per task of each side where /proc could be read (Linux), each the
 * median over the runs.
 */
export interface ClusterResult extends Partial<CpuPerTask> {
  readonly bench: 'cluster';
  readonly system: SystemName;
  /** Tasks per run, over all the layout's queues. */
  readonly n: number;
  readonly layout: ClusterLayoutName;
  /** Queues of the layout (one worker process serves them all). */
  readonly queues: number;
  readonly tasksPerSec: number;
  readonly usPerTask: number;
  readonly runs: readonly number[];
}

/**
 * replicas, replica up: one mode (waitForReplicas off, or `{ replicas: 1 }`)
 * on a master with one replica. `n` tasks enqueued one at a time (p50 and
 * p99 ms per enqueue), and `n` in batches of 100 (tasks/s); each figure the
 * median over the runs.
 */
export interface ReplicasResult extends ReplicasSummary {
  readonly bench: 'replicas';
  readonly system: SystemName;
  readonly n: number;
  readonly mode: ReplicasModeName;
  /** The Queue option of this mode; absent when off. */
  readonly waitForReplicas?: WaitOption;
  /** Tasks per enqueueMany call in the batched part. */
  readonly batch: number;
}

/**
 * replicas, replica stopped: `n` single enqueues with `{ replicas: 1,
 * timeoutMs }`, each of which rejected with NotReplicatedError; ms until it did.
 */
export interface ReplicaDownResult {
  readonly bench: 'replicas';
  readonly system: SystemName;
  /** Enqueues made (every one rejected). */
  readonly n: number;
  readonly mode: 'replica-down';
  readonly waitForReplicas: Required<WaitOption>;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly minMs: number;
  readonly maxMs: number;
  /** Enqueues that rejected with NotReplicatedError (0 replicas confirmed): all n, or the run is an error. */
  readonly rejected: number;
}

export type { FleetResult, IdleFleetResult };

export type BenchResult = ThroughputResult | LatencyResult | MemoryResult | ClusterResult | ReplicasResult | ReplicaDownResult | FleetResult | IdleFleetResult;

/** A run that threw or lost tasks; the bench goes on with the next one and exits 1 at the end. */
export interface RunError {
  readonly bench: ScenarioName;
  readonly system: SystemName;
  readonly n: number;
  readonly error: string;
}

/** A scenario a system does not run, and why (see names.ts notApplicable); not an error. */
export interface NotApplicable {
  readonly bench: ScenarioName;
  readonly system: SystemName;
  readonly n: number;
  readonly reason: string;
}

/** The number a scenario is judged by, and whether more is better. */
export function headline(result: BenchResult): { metric: string; value: number; higherIsBetter: boolean } {
  switch (result.bench) {
    case 'latency':
      return { metric: 'p99Ms', value: result.p99Ms, higherIsBetter: false };
    case 'memory':
      return { metric: 'bytesPerTask', value: result.bytesPerTask, higherIsBetter: false };
    case 'replicas':
      // a single enqueue's median time (with the replica up), or its time to be refused (replica down)
      return { metric: 'p50Ms', value: result.p50Ms, higherIsBetter: false };
    case 'idle-fleet':
      // what a task costs Redis while the fleet idles
      return { metric: 'redisUsPerTask', value: result.redisUsPerTask, higherIsBetter: false };
    default:
      return { metric: 'tasksPerSec', value: result.tasksPerSec, higherIsBetter: true };
  }
}

/**
 * Ratios of a result's headline against the peers' in the same scenario
 * (scale: against the next smaller size; replicas: each of its figures
 * against the same system with waitForReplicas off).
 */
export interface Ratios extends ReplicasRatios {
  readonly ratioVsBullmq?: number;
  readonly ratioVsBeeQueue?: number;
  /** scale only: tasks/s at this size / tasks/s at the next smaller size. */
  readonly ratioVsSmaller?: number;
  /** cluster only: tasks/s in this layout / the same system's tasks/s on 1 node with 1 queue. */
  readonly ratioVsOneNode?: number;
  /** drain, enqueue, latency: Redis CPU µs per task / the peer's in the same scenario (lower is better). */
  readonly redisUsRatioVsBullmq?: number;
  readonly redisUsRatioVsBeeQueue?: number;
  /** fleet only: tasks/s with this K / the same system's with 1 worker process, in the same mode. */
  readonly ratioVsOneWorker?: number;
}

export function ratiosOf(result: BenchResult, all: readonly BenchResult[]): Ratios {
  const value = headline(result).value;
  if (result.bench === 'replicas') {
    // taskq only (the peers have no such option): each mode against the same system without the WAIT
    if (result.mode === 'replica-down' || result.mode === REPLICAS_BASELINE) return {};
    const off = all.find((r): r is ReplicasResult => r.bench === 'replicas' && r.mode === REPLICAS_BASELINE && r.system === result.system);
    return replicasRatios(result, off);
  }
  if (result.bench === 'fleet') return fleetRatios(result, all);
  if (result.bench === 'scale') {
    const smaller = all
      .filter((r): r is ThroughputResult => r.bench === 'scale' && r.system === result.system && r.n < result.n)
      .sort((a, b) => b.n - a.n)[0];
    return { ratioVsSmaller: smaller ? ratio(value, smaller.tasksPerSec) : undefined };
  }
  // the cluster scenario compares systems within one layout
  const sameCell = (r: BenchResult): boolean =>
    r.bench === result.bench && (r.bench !== 'cluster' || result.bench !== 'cluster' || r.layout === result.layout);
  const peer = (system: SystemName): number | undefined => {
    const found = all.find((r) => sameCell(r) && r.system === system);
    return found ? headline(found).value : undefined;
  };
  const peers = { ratioVsBullmq: ratio(value, peer('bullmq')), ratioVsBeeQueue: ratio(value, peer('bee-queue')) };
  if (result.bench !== 'cluster') return { ...peers, ...redisCostRatios(result, all) };
  const baseline = all.find((r) => r.bench === 'cluster' && r.layout === BASELINE_LAYOUT && r.system === result.system);
  return { ...peers, ratioVsOneNode: ratio(value, baseline ? headline(baseline).value : undefined) };
}

/** Redis µs per task against the peers' in the same scenario (drain, enqueue, latency), where both were measured. */
function redisCostRatios(result: BenchResult, all: readonly BenchResult[]): Pick<Ratios, 'redisUsRatioVsBullmq' | 'redisUsRatioVsBeeQueue'> {
  if (!REDIS_COST_SCENARIOS.includes(result.bench) || !('redisUsPerTask' in result) || result.redisUsPerTask === undefined) return {};
  const us = result.redisUsPerTask;
  const peer = (system: SystemName): number | undefined => {
    const found = all.find((r) => r.bench === result.bench && r.system === system);
    return found && 'redisUsPerTask' in found ? found.redisUsPerTask : undefined;
  };
  return { redisUsRatioVsBullmq: ratio(us, peer('bullmq')), redisUsRatioVsBeeQueue: ratio(us, peer('bee-queue')) };
}

/** Rounds for display in JSON: 3 significant decimals are plenty for a benchmark. */
function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  const abs = Math.abs(value);
  const digits = abs >= 1000 ? 0 : abs >= 10 ? 2 : 3;
  return Number(value.toFixed(digits));
}

/** A number, an array of numbers, or an object of numbers (latency's warm-up) rounded; anything else as is. */
function roundValue(value: unknown): unknown {
  if (typeof value === 'number') return round(value);
  if (Array.isArray(value)) return value.map((v: unknown) => (typeof v === 'number' ? round(v) : v));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typeof v === 'number' ? round(v) : v]));
  return value;
}

/** One JSON object per result, with its ratios, numbers rounded. */
export function jsonRecord(result: BenchResult, all: readonly BenchResult[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries({ ...result, ...ratiosOf(result, all) })) {
    if (value === undefined) continue;
    out[key] = roundValue(value);
  }
  return out;
}
