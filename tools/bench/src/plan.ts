import type { FleetModeName } from './fleet';
import type { ScenarioName, SystemName } from './names';

/** Sizes of one bench run; `--smoke` and the full run differ only here. */
export interface BenchPlan {
  /** Tasks per enqueue and drain run. Full 50,000; smoke 2,000. */
  readonly n: number;
  /** Runs of each enqueue, drain, weighted, cluster, replicas (replica up), latency and scale measurement; the median is reported. Full 3; smoke 1. */
  readonly repeat: number;
  /** Sub-workers (BullMQ/bee-queue concurrency) of the one worker process. 50. */
  readonly concurrency: number;
  /** Tasks per weighted run (three queues, priorities 0–9, one worker over all three). Full 50,000; smoke 2,000. */
  readonly weightedN: number;
  /** Tasks per cluster run, in total (one queue, or three with a third each). Full 50,000; smoke 2,000. */
  readonly clusterN: number;
  /**
   * Replicas scenario: tasks per run and mode, enqueued one at a time, and
   * again in batches of 100. Full 10,000; smoke 500.
   */
  readonly replicasN: number;
  /** Replicas scenario: single enqueues made with the replica stopped (each waits out its 50 ms timeout). Full 100; smoke 10. */
  readonly replicasDownN: number;
  /** Fleet scenario: tasks per drain run. Full 50,000; smoke 1,000. */
  readonly fleetN: number;
  /** Fleet scenario: worker processes per run (K), ascending. Full 1, 2, 4; smoke 2 (process starts dominate a smoke run). */
  readonly fleetK: readonly number[];
  /** Fleet scenario: the plan's concurrency split over the K processes, and/or in each. Full both; smoke same-per-process. */
  readonly fleetModes: readonly FleetModeName[];
  /** Idle-fleet scenario: idle worker processes. Full 8; smoke 2. */
  readonly idleFleetWorkers: number;
  /** Idle-fleet scenario: sub-workers of each idle process. 10. */
  readonly idleFleetConcurrency: number;
  /** Idle-fleet scenario: tasks per second, enqueued one at a time. 1,000. */
  readonly idleFleetRate: number;
  /** Idle-fleet scenario: how long the producer runs, ms. Full 10,000; smoke 500. */
  readonly idleFleetMs: number;
  /** Latency scenario: tasks per second, enqueued one at a time. Full 1,000; smoke 200. */
  readonly latencyRate: number;
  /** Latency scenario: how long the producer runs, ms, after each run's warm-up second (latency-runs.ts). Full 10,000; smoke 2,000. */
  readonly latencyMs: number;
  /** Tasks queued for the memory scenario. Full 100,000; smoke 5,000. */
  readonly memoryN: number;
  /** Drain sizes of the scale scenario, ascending. Full 10k, 100k, 1M; smoke 1k, 5k, 10k. */
  readonly scaleSizes: readonly number[];
  /** Systems to run, in order. */
  readonly systems: readonly SystemName[];
  /** Scenarios to run, in order. */
  readonly scenarios: readonly ScenarioName[];
  /** True for `--smoke`: everything runs and reports, targets are not judged. */
  readonly smoke: boolean;
  /** taskq's worker processes take tasks in their wake messages (WorkerPoolSettings.handOff, opt-in); false: the library's default. */
  readonly handOff?: boolean;
}

export type Sizes = Omit<BenchPlan, 'systems' | 'scenarios' | 'smoke'>;

export const FULL_SIZES: Sizes = {
  n: 50_000,
  repeat: 3,
  concurrency: 50,
  weightedN: 50_000,
  clusterN: 50_000,
  replicasN: 10_000,
  replicasDownN: 100,
  fleetN: 50_000,
  fleetK: [1, 2, 4],
  fleetModes: ['same-total', 'same-per-process'],
  idleFleetWorkers: 8,
  idleFleetConcurrency: 10,
  idleFleetRate: 1000,
  idleFleetMs: 10_000,
  latencyRate: 1000,
  latencyMs: 10_000,
  memoryN: 100_000,
  scaleSizes: [10_000, 100_000, 1_000_000],
};

/** Small enough that the whole smoke run takes well under a minute on a 2-core machine. */
export const SMOKE_SIZES: Sizes = {
  n: 2000,
  repeat: 1,
  concurrency: 50,
  weightedN: 2000,
  clusterN: 2000,
  replicasN: 500,
  replicasDownN: 10,
  fleetN: 1000,
  fleetK: [2],
  fleetModes: ['same-per-process'],
  idleFleetWorkers: 2,
  idleFleetConcurrency: 10,
  idleFleetRate: 1000,
  idleFleetMs: 500,
  latencyRate: 200,
  latencyMs: 2000,
  memoryN: 5000,
  scaleSizes: [1000, 5000, 10_000],
};

/** Tasks per enqueue call when the bench only prepares a queue (drain, memory): bounds the producer's memory. */
export const SETUP_CHUNK = 10_000;
