import type { ClusterLayoutName, CpuPerTask } from '../cluster';
import type { SystemName } from '../names';
import type { ReplicasModeName } from '../replicas';
import type { BenchResult, ClusterResult, LatencyResult, MemoryResult, RedisCostFields, ReplicaDownResult, ReplicasResult, ThroughputResult } from '../results';

/** Builders of result records for the unit tests. */
export const tput = (bench: ThroughputResult['bench'], system: SystemName, tasksPerSec: number, n = 50_000, cost: RedisCostFields = {}): ThroughputResult => ({
  bench,
  system,
  n,
  tasksPerSec,
  usPerTask: 1e6 / tasksPerSec,
  runs: [tasksPerSec],
  ...cost,
});

/** Redis cost figures of one result (medians of a single run), for tput and latency. */
export const redisCost = (redisUsPerTask: number, redisCommandsPerTask: number, redisReadsPerTask: number, redisScriptCallsPerTask: number): RedisCostFields => ({
  redisUsPerTask,
  redisCommandsPerTask,
  redisReadsPerTask,
  redisScriptCallsPerTask,
  runsRedisUsPerTask: [redisUsPerTask],
});

export const latency = (system: SystemName, p99Ms: number, p50Ms = p99Ms / 4, warmupP99Ms = p99Ms * 3, cost: RedisCostFields = {}): LatencyResult => ({
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
  runsP99Ms: [p99Ms],
  warmupMs: 1000,
  warmup: { p50Ms, p99Ms: warmupP99Ms, maxMs: warmupP99Ms * 2 },
  ...cost,
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

export const replicasUp = (mode: ReplicasModeName, p50Ms: number, p99Ms: number, batchTasksPerSec: number, system: SystemName = 'taskq'): ReplicasResult => ({
  bench: 'replicas',
  system,
  n: 10_000,
  mode,
  ...(mode === 'off' ? {} : { waitForReplicas: { replicas: 1 } }),
  batch: 100,
  p50Ms,
  p99Ms,
  batchTasksPerSec,
  runsP50Ms: [p50Ms],
  runsP99Ms: [p99Ms],
  runsBatchTasksPerSec: [batchTasksPerSec],
});

export const replicaDown = (p50Ms: number, p99Ms: number, system: SystemName = 'taskq'): ReplicaDownResult => ({
  bench: 'replicas',
  system,
  n: 100,
  mode: 'replica-down',
  waitForReplicas: { replicas: 1, timeoutMs: 50 },
  p50Ms,
  p99Ms,
  minMs: p50Ms / 2,
  maxMs: p99Ms,
  rejected: 100,
});

export type { BenchResult };
