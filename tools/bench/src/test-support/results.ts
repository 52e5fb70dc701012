import type { ClusterLayoutName, CpuPerTask } from '../cluster';
import type { SystemName } from '../names';
import type { BenchResult, ClusterResult, LatencyResult, MemoryResult, ThroughputResult } from '../results';

/** Builders of result records for the unit tests. */
export const tput = (bench: ThroughputResult['bench'], system: SystemName, tasksPerSec: number, n = 50_000): ThroughputResult => ({
  bench,
  system,
  n,
  tasksPerSec,
  usPerTask: 1e6 / tasksPerSec,
  runs: [tasksPerSec],
});

export const latency = (system: SystemName, p99Ms: number, p50Ms = p99Ms / 4): LatencyResult => ({
  bench: 'latency',
  system,
  n: 10_000,
  ratePerSec: 1000,
  durationMs: 10_000,
  sentPerSec: 1000,
  p50Ms,
  p90Ms: p99Ms / 2,
  p99Ms,
  maxMs: p99Ms * 2,
});

export const memory = (system: SystemName, bytesPerTask: number): MemoryResult => ({
  bench: 'memory',
  system,
  n: 100_000,
  usedMemoryBefore: 1_000_000,
  usedMemoryAfter: 1_000_000 + bytesPerTask * 100_000,
  bytesPerTask,
});

export const cluster = (system: SystemName, layout: ClusterLayoutName, tasksPerSec: number, cpu: Partial<CpuPerTask> = {}): ClusterResult => ({
  bench: 'cluster',
  system,
  n: 50_000,
  layout,
  queues: layout === '1-node-1-queue' ? 1 : 3,
  tasksPerSec,
  usPerTask: 1e6 / tasksPerSec,
  runs: [tasksPerSec],
  ...cpu,
});

export type { BenchResult };
