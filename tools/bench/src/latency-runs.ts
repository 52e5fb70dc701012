import type { SystemName } from './names';
import { redisCostSummary, type RedisCostPerTask } from './redis-cost';
import type { LatencyResult } from './results';
import { median, summarizeLatencies, type LatencySummary } from './stats';

/**
 * The pure parts of the latency scenario (scenarios/latency.ts): each run
 * starts a fresh worker and streams a warm-up second at the run's rate, whose
 * latencies are reported apart, then the measured stream; the result is the
 * median of the runs.
 */

/** How long each run's warm-up streams, ms: a user's first tasks, on a fresh worker. */
export const WARMUP_MS = 1000;

/** Tasks of a warm-up at `ratePerSec`: the rate for WARMUP_MS, at least one. */
export function warmupTasks(ratePerSec: number, warmupMs = WARMUP_MS): number {
  return Math.max(1, Math.round((ratePerSec * warmupMs) / 1000));
}

/**
 * Splits a worker's latencies, in the order its handlers started, into the
 * warm-up's (the first `warmup`: the run waits for every warm-up task to
 * finish before its stream starts) and the run's `run`; any other count is an error.
 */
export function splitWarmup(latenciesMs: readonly number[], warmup: number, run: number): { warmup: LatencySummary; run: LatencySummary } {
  if (latenciesMs.length !== warmup + run) {
    throw new RangeError(`expected ${warmup} warm-up and ${run} measured latencies, got ${latenciesMs.length} in all`);
  }
  return { warmup: summarizeLatencies(latenciesMs.slice(0, warmup)), run: summarizeLatencies(latenciesMs.slice(warmup)) };
}

/** One latency run of one system. */
export interface LatencyRun {
  /** Tasks of the measured stream / its time until the last enqueue replied. */
  readonly sentPerSec: number;
  readonly warmup: LatencySummary;
  readonly run: LatencySummary;
  /** What the measured stream, until its last task finished, cost Redis per task (the warm-up's not included). */
  readonly redisCost: RedisCostPerTask;
  /** The bench's completion polls in the measured part. */
  readonly polls: number;
}

/** What the scenario reports for one system: each figure the median over its runs, every run's p99 listed. */
export function latencyResult(
  system: SystemName,
  shape: { readonly n: number; readonly ratePerSec: number; readonly durationMs: number; readonly warmupMs: number },
  runs: readonly LatencyRun[],
): LatencyResult {
  if (runs.length === 0) throw new RangeError('latencyResult of no runs');
  const mid = (pick: (r: LatencyRun) => number): number => median(runs.map(pick));
  return {
    bench: 'latency',
    system,
    ...shape,
    sentPerSec: mid((r) => r.sentPerSec),
    p50Ms: mid((r) => r.run.p50Ms),
    p90Ms: mid((r) => r.run.p90Ms),
    p99Ms: mid((r) => r.run.p99Ms),
    maxMs: mid((r) => r.run.maxMs),
    runsP99Ms: runs.map((r) => r.run.p99Ms),
    warmup: { p50Ms: mid((r) => r.warmup.p50Ms), p99Ms: mid((r) => r.warmup.p99Ms), maxMs: mid((r) => r.warmup.maxMs) },
    ...redisCostSummary(runs.map((r) => r.redisCost)),
    waitForDrainPolls: mid((r) => r.polls),
  };
}
